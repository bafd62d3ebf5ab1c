"""`vt-sync PATH…`: upload every offline W&B run under the given folders (`wandb sync`), e.g. from a login node
after jobs ran on compute nodes without internet.

    vt-sync outputs/               # wandb sync <every offline-run-* folder>
    vt-sync outputs/ --dry-run     # only list them
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def offline_runs(paths: Sequence[str | Path]) -> list[Path]:
    found: list[Path] = []
    for root in map(Path, paths):
        if root.name.startswith("offline-run-") and root.is_dir():
            found.append(root)
        else:
            found += sorted(p for p in root.rglob("offline-run-*") if p.is_dir())
    return found


def sync_command(runs: Sequence[Path]) -> list[str]:
    exe = shutil.which("wandb") or str(Path(sys.executable).with_name("wandb"))
    return [exe, "sync", *map(str, runs)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vt-sync", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="folders to search (run dirs, multirun dirs, outputs/)")
    parser.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not Path(path).exists():
            raise SystemExit(f"error: {path}: no such file or directory")
    runs = offline_runs(args.paths)
    if not runs:
        print("no offline W&B runs found")
        return 0
    command = sync_command(runs)
    print(f"{len(runs)} offline W&B runs")
    if args.dry_run:
        print(" ".join(command))
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
