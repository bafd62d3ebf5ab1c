"""Scratch vs finetune vs warmup vs frozen on few-label digits, several seeds, from a shapes-pretrained backbone.

    .venv/bin/python scripts/transfer_study.py                    # pre-trains first (experiment=shapes_pretrain)
    .venv/bin/python scripts/transfer_study.py --ckpt PATH/last.ckpt --seeds 1 2 3

Runs `vt-train -m` sweeps (CSV logger) and prints a Markdown table of test/acc (mean ± std over seeds)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

VT_TRAIN = [sys.executable, "-m", "visiontrain.train"]
QUIET = ["logger=csv", "callbacks.rich_progress_bar=null", "trainer.enable_progress_bar=false"]


def run(args: list[str]) -> None:
    print("$ vt-train " + " ".join(args), flush=True)
    subprocess.run([*VT_TRAIN, *args], check=True, stdout=subprocess.DEVNULL)


def newest(pattern: str) -> Path:
    return max(Path("outputs").glob(pattern), key=lambda p: p.stat().st_mtime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", help="a shapes-pretrained checkpoint (default: pre-train one now)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--per-class", type=int, default=10)
    args = parser.parse_args()

    ckpt = args.ckpt
    if ckpt is None:
        run(["experiment=shapes_pretrain", *QUIET])
        ckpt = str(newest("shapes_pretrain/runs/*") / "checkpoints" / "last.ckpt")
    seeds = ",".join(map(str, args.seeds))
    common = ["experiment=digits_transfer", f"data.train_per_class={args.per_class}", f"seed={seeds}", *QUIET]
    run(["-m", *common, f"model.weights_path={ckpt}", "model.transfer.mode=finetune,warmup,frozen"])
    pretrained = newest("digits_transfer/multiruns/*")
    run(["-m", *common, "model.weights_path=null", "model.transfer.mode=scratch"])
    scratch = newest("digits_transfer/multiruns/*")

    results: dict[str, list[float]] = {}
    for job in [*pretrained.iterdir(), *scratch.iterdir()]:
        if not (job / "metrics.json").is_file():
            continue
        record = json.loads((job / "metrics.json").read_text())
        overrides = (job / ".hydra" / "overrides.yaml").read_text()
        mode = next(m for m in ("scratch", "finetune", "warmup", "frozen") if f"mode={m}" in overrides)
        results.setdefault(mode, []).append(record["metrics"].get("test/acc", float("nan")))
    print(f"\n| mode | test/acc (mean ± std over seeds {args.seeds}) | runs |\n|---|---|---|")
    for mode in ("scratch", "finetune", "warmup", "frozen"):
        accs = results.get(mode, [])
        if accs:
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            print(f"| {mode} | {statistics.mean(accs):.3f} ± {std:.3f} | {len(accs)} |")
    print(f"\ncheckpoint: {ckpt}\nsweeps: {pretrained} {scratch}")


if __name__ == "__main__":
    main()
