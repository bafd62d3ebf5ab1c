"""Start-up: wall time of `vt-train --help` and `vt-train --cfg job` (target <= 2 s each)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from _common import median, parser

args = parser(__doc__).parse_args()
exe = shutil.which("vt-train", path=os.path.dirname(sys.executable)) or shutil.which("vt-train")
env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "WANDB_MODE": "offline"}
print(f"device: {args.device} (start-up runs no model; recorded for the table) · {exe}")
for extra in (["--help"], ["--cfg", "job"]):
    times = []
    for _ in range(max(args.repeats, 3)):
        t = time.perf_counter()
        subprocess.run([exe, *extra], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    m = median(times)
    print(f"vt-train {' '.join(extra)}: median {m:.2f} s (min {min(times):.2f}) · target <= 2 s: "
          f"{'ok' if m <= 2 else 'MISSED'} · ratio to target {m / 2:.2f}")
