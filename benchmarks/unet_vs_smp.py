"""This project's U-Net on a ResNet-18 encoder (``model=unet_resnet``) vs segmentation_models_pytorch's
``Unet("resnet18")`` (no weights on either side), CPU.

``--mode step``: time per training step of the two bare networks, alternating step by step in one process (same
batch of images and masks, same loss: cross-entropy, same AdamW, same threads); ours is built from the composed
``model=unet_resnet`` config, as ``vt-train`` builds it (``--ours KEY=VALUE`` overrides it, e.g.
``--ours model.encoder.head_resolution=input`` for the earlier decoder). Ratio = median of the per-step ratios.

``--mode run``: wall clock of a whole training run as a user starts it, on the same generated shapes-seg images
(written once as a mask folder, read by both sides through this project's reader and Albumentations pipeline):
ours is ``vt-train model=unet_resnet data=mask_folder …`` (validation every epoch, checkpoints, logging included);
the peer is the same recipe written by hand with smp (``_smp_side.py``: smp's network and Dice loss, AdamW, cosine
schedule, validation every epoch, the best weights kept and tested). The runs alternate (ours, smp, ours, …
``--repeats`` pairs); ratio = median of the per-pair ratios; both sides' test mIoU is printed.

Setup (once): a venv that shares the main venv's torch and adds smp only::

    $(readlink -f .venv/bin/python) -m venv benchmarks/.venv-smp
    printf "%s\n" "$PWD/.venv/lib/python3.11/site-packages" "$PWD/src" > benchmarks/.venv-smp/lib/python3.11/site-packages/main_venv.pth
    benchmarks/.venv-smp/bin/pip install --no-deps segmentation-models-pytorch

Run from the repository root: ``benchmarks/.venv-smp/bin/python benchmarks/unet_vs_smp.py --mode step``
(the script puts ``src/`` on the path itself).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

import _common  # noqa: E402

SMP_PYTHON = ROOT / "benchmarks" / ".venv-smp" / "bin" / "python"
CLASSES = ["circle", "square", "triangle", "star"]  # + background: 5 outputs


def our_network(overrides: list[str], num_classes: int):
    """The U-Net exactly as ``vt-train model=unet_resnet`` builds it (module included: normalisation, memory format)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from visiontrain.config.paths import CONFIG_DIR
    from visiontrain.config.resolvers import register_resolvers

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["model=unet_resnet", *overrides])
    names = ["background", *CLASSES][:num_classes]
    return instantiate(cfg.model, class_names=names)


def step_mode(args) -> None:
    import segmentation_models_pytorch as smp
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    k = len(CLASSES) + 1
    ours = our_network(args.ours, k)
    peer = smp.Unet("resnet18", encoder_weights=None, classes=k)
    count = lambda m: sum(p.numel() for p in m.parameters())
    print(_common.describe("cpu"))
    print(f"parameters: ours {count(ours):,}, smp {count(peer):,}; batch {args.batch}, {args.size} px, "
          f"{args.threads} threads; ours: model=unet_resnet {' '.join(args.ours)}")
    images = torch.rand(args.batch, 3, args.size, args.size)
    masks = torch.randint(0, k, (args.batch, args.size, args.size))
    ours.train(), peer.train()
    opt = {m: torch.optim.AdamW(m.parameters(), lr=1e-3) for m in (ours, peer)}

    def step(model) -> float:
        start = time.perf_counter()
        loss = F.cross_entropy(model(images), masks)
        opt[model].zero_grad(set_to_none=True)
        loss.backward()
        opt[model].step()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        step(ours), step(peer)
    times = _common.alternate({"ours": lambda: step(ours), "smp": lambda: step(peer)}, args.steps)
    ratios = [a / b for a, b in zip(times["ours"], times["smp"])]
    print(f"s/step: ours {statistics.median(times['ours']):.3f} (min {min(times['ours']):.3f}), "
          f"smp {statistics.median(times['smp']):.3f} (min {min(times['smp']):.3f})")
    print(f"ratio ours/smp: {statistics.median(ratios):.3f} (median of {len(ratios)} paired steps; "
          f"spread {min(ratios):.2f}-{max(ratios):.2f}; ratio of medians "
          f"{statistics.median(times['ours']) / statistics.median(times['smp']):.3f})")


def run_overrides(work: Path, args) -> list[str]:
    """One recipe for both sides: the data config is composed from these on the smp side too."""
    return [f"data=mask_folder", f"data.source.root={work / 'shapes_seg'}", f"data.image_size={args.size}",
            f"data.batch_size={args.batch}", f"data.num_workers={args.workers}", f"seed={args.seed}",
            f"trainer.max_epochs={args.epochs}", "model.loss.ce=1.0", "model.loss.dice=1.0",
            "model.optimizer.lr=0.001", "model.log_images=0"]


def prepare(work: Path, args) -> None:
    from visiontrain.data.synthetic.shapes_segmentation import ShapesSegmentation

    # train split = 70% (val/test 15% each): --images training images
    ShapesSegmentation(str(work / "shapes_seg"), classes=CLASSES, count=round(args.images / 0.7),
                       image_size=args.size, seed=0).prepare()


def run_ours(work: Path, args, rep: int) -> dict:
    run = work / f"ours{rep}"
    shutil.rmtree(run, ignore_errors=True)  # a rerun in the same --work starts a new run, not a resume
    cmd = [str(ROOT / ".venv" / "bin" / "vt-train"), "model=unet_resnet", *run_overrides(work, args),
           "optimized_metric=val/miou", "logger=csv", f"hydra.run.dir={run}", f"paths.root_dir={work}",
           *args.ours]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"our run failed:\n{proc.stderr[-3000:]}")
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    return {"wall_s": wall, "test_miou": metrics.get("test/miou")}


def run_smp(work: Path, args, rep: int) -> dict:
    out = work / f"smp{rep}.json"
    cmd = [str(SMP_PYTHON), str(ROOT / "benchmarks" / "_smp_side.py"), str(out), str(args.threads),
           str(args.epochs), *run_overrides(work, args)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"smp run failed:\n{proc.stderr[-3000:]}")
    return {"wall_s": wall, **json.loads(out.read_text())}


def run_mode(args) -> None:
    work = Path(args.work or tempfile.mkdtemp(prefix="unet_vs_smp_"))
    work.mkdir(parents=True, exist_ok=True)
    prepare(work, args)
    print(_common.describe("cpu"))
    print(f"whole runs: {args.epochs} epochs, ~{args.images} training images at {args.size} px, batch {args.batch}, "
          f"{args.workers} workers, {args.threads} threads; work dir {work}")
    results = {"ours": [], "smp": []}
    for rep in range(args.repeats):
        order = ("ours", "smp") if rep % 2 == 0 else ("smp", "ours")
        for side in order:
            r = (run_ours if side == "ours" else run_smp)(work, args, rep)
            results[side].append(r)
            print(f"  pair {rep}: {side} {r['wall_s']:.1f} s, test/miou {r['test_miou']:.4f}", flush=True)
    ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(results["ours"], results["smp"])]
    med = lambda side, key: statistics.median(r[key] for r in results[side])
    print(f"wall s: ours {med('ours', 'wall_s'):.1f}, smp {med('smp', 'wall_s'):.1f}; test/miou: ours "
          f"{med('ours', 'test_miou'):.4f}, smp {med('smp', 'test_miou'):.4f}")
    print(f"ratio ours/smp (wall): {statistics.median(ratios):.3f} (pairs: {', '.join(f'{r:.3f}' for r in ratios)})")


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["step", "run"], default="step")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=10, help="step mode: timed rounds (one step of each side per round)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--images", type=int, default=256, help="run mode: training images")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", default=None, help="run mode: work dir (data and runs); a temporary one by default")
    p.add_argument("--ours", nargs="*", default=[], help="config overrides for our side, e.g. "
                                                        "model.encoder.head_resolution=input")
    args = p.parse_args()
    (step_mode if args.mode == "step" else run_mode)(args)


if __name__ == "__main__":
    main()
