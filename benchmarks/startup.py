"""Start-up: wall time of `vt-train --help` and `vt-train --cfg job` (target <= 2 s each), and of a config error
(a wrong choice, an unknown Trainer key; target <= 1.5 s): the first time in a fresh environment, when full
validation has to import the classes, and after it, when the signature record answers before any heavy import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
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

cache = tempfile.mkdtemp(prefix="vt_startup_cache_")
runs = tempfile.mkdtemp(prefix="vt_startup_runs_")
for mistake in (["model.transfer.mode=finetun"], ["+trainer.max_epoch=3"]):
    times = []
    for i in range(max(args.repeats, 3) + 1):  # run 0: the record is empty (a fresh environment)
        t = time.perf_counter()
        proc = subprocess.run([exe, *mistake, f"hydra.run.dir={runs}/{mistake[0][:12]}{i}"],
                              env={**env, "VT_CACHE_DIR": cache}, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        assert proc.returncode == 1 and proc.stderr.startswith("error: "), proc.stderr[-500:]
    m = median(times[1:])
    print(f"vt-train {mistake[0]} (config error): first {times[0]:.2f} s, then median {m:.2f} s "
          f"(min {min(times[1:]):.2f}) · target <= 1.5 s: {'ok' if m <= 1.5 else 'MISSED'}")
shutil.rmtree(cache, ignore_errors=True)
shutil.rmtree(runs, ignore_errors=True)
