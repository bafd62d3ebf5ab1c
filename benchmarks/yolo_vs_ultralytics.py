"""This project's YOLO-n vs Ultralytics YOLOv8n (from yolov8n.yaml, no weights), same generated shapes-det (written
in YOLO format, which both read), same image size, epochs, batch size, optimiser settings, CPU, 2 threads.

Both are scored by the same evaluator (torchmetrics COCO mAP, this project's detection metric) on the test split,
from predictions in original image coordinates (conf 0.001, IoU 0.7, max 300); Ultralytics' own mAP is shown too.
Training images/s = epochs x train images / wall time of training (each validates once, at the end); inference
ms/image = median over the test images of one-image prediction from the file (read, letterbox, forward with BN
folded into the convolutions, NMS), both models timed alternately in one process.

    python -m venv benchmarks/.venv-ultralytics   # plus ultralytics; see benchmarks/README.md
    NO_ALBUMENTATIONS_UPDATE=1 WANDB_MODE=offline .venv/bin/python benchmarks/yolo_vs_ultralytics.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UL_PYTHON = ROOT / "benchmarks" / ".venv-ultralytics" / "bin" / "python"


def run_ours(work: Path, args) -> dict:
    import numpy as np
    import torch

    from visiontrain.data.formats.images import read_rgb

    overrides = ["experiment=det_shapes_yolo", "logger=none", "callbacks.rich_progress_bar=null",
                 "trainer.enable_progress_bar=false", f"paths.root_dir={work}", f"paths.data_dir={work}/data",
                 f"data.source.num_train={args.train}", "data.source.num_val=20", f"data.source.num_test={args.test}",
                 f"data.source.image_size={args.imgsz}", f"data.img_size={args.imgsz}", f"data.batch_size={args.batch}",
                 f"data.close_mosaic={args.close_mosaic}", f"trainer.max_epochs={args.epochs}",
                 f"trainer.check_val_every_n_epoch={args.epochs}", "trainer.num_sanity_val_steps=0",
                 "data.source.format=yolo", "test=false", f"trainer.precision={args.precision}", "model.log_images=0"]
    cfg = _compose(overrides, work)
    from hydra.utils import instantiate

    instantiate(cfg.data.source).prepare()  # the dataset is written before the clock starts
    torch.set_num_threads(2)
    from visiontrain.train import train
    from visiontrain.utils.job import run_job

    start = time.perf_counter()  # in-process, like Ultralytics' model.train(): data setup, fit, final validation
    run_job(cfg, train)
    fit_s = time.perf_counter() - start
    run = Path(cfg.paths.output_dir)
    record = json.loads((run / "metrics.json").read_text())
    if record["status"] != "finished":
        raise SystemExit(f"our run failed: {record.get('error')}")
    from visiontrain.utils.checkpoints import load_module, read_stored_config

    ckpt = run / "checkpoints" / "last.ckpt"
    module = load_module(ckpt, read_stored_config(ckpt)).eval()
    torch.set_num_threads(2)
    images = sorted((work / "data" / "shapes_det" / "images" / "test").glob("*.png"))
    module.predict([read_rgb(images[0])])  # warm-up
    preds, times = {}, []
    for p in images:
        im = read_rgb(p)
        t0 = time.perf_counter()
        d = module.predict([im])[0]
        times.append(time.perf_counter() - t0)
        preds[p.name] = {k: v.tolist() for k, v in d.items()}
    return {"train_s": fit_s, "infer_ms": 1000 * float(np.median(times)), "preds": preds, "run": str(run),
            "own_map": record["metrics"].get("val/map"), "own_map50": record["metrics"].get("val/map_50")}


def _compose(overrides: list[str], work: Path):
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from visiontrain.utils.config_paths import CONFIG_DIR
    from visiontrain.utils.resolvers import register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    run = work / "ours_run"
    run.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        cfg.paths.output_dir = cfg.hydra.runtime.output_dir = str(run)
        cfg.hydra.job.id, cfg.hydra.job.num = "bench", 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def score(preds: dict, work: Path) -> tuple[float, float]:
    """Both sides' predictions, one evaluator: torchmetrics COCO mAP on the test split (YOLO-format labels)."""
    import torch

    from visiontrain.data.formats.yolo import YoloReader
    from visiontrain.models.detection.metrics import make_map

    index = YoloReader(str(work / "data" / "shapes_det" / "data.yaml")).load_index("error")
    metric = make_map(class_metrics=False)
    for j in index.splits["test"]:
        rec = index.records[int(j)]
        p = preds[rec.path.name]
        metric.update([{"boxes": torch.tensor(p["boxes"]).reshape(-1, 4), "scores": torch.tensor(p["scores"]),
                        "labels": torch.tensor(p["labels"], dtype=torch.long)}],
                      [{"boxes": torch.from_numpy(rec.boxes), "labels": torch.from_numpy(rec.labels)}])
    r = metric.compute()
    return float(r["map"]), float(r["map_50"])


def run_ultralytics(work: Path, args, ours_ckpt: str) -> dict:
    if not UL_PYTHON.exists():
        raise SystemExit(f"{UL_PYTHON} not found: create the benchmark venv first (benchmarks/README.md)")
    root = work / "data" / "shapes_det"
    names = json.loads((root / "data.yaml").read_text())["names"]
    data = work / "ul_data.yaml"
    data.write_text(json.dumps({"path": str(root), "train": "images/train", "val": "images/val",
                                "test": "images/test", "names": {i: n for i, n in enumerate(names)}}))
    cfg_dir = work / "ul_config"
    (cfg_dir / "Ultralytics").mkdir(parents=True, exist_ok=True)
    font = next(iter(sorted(Path("/usr/share/fonts").rglob("*.ttf"))), None)
    if font:
        shutil.copy(font, cfg_dir / "Ultralytics" / "Arial.ttf")
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(cfg_dir), "OMP_NUM_THREADS": "2",
           "WANDB_MODE": "disabled"}
    subprocess.run([str(UL_PYTHON.parent / "yolo"), "settings", "sync=False"], env=env, capture_output=True, check=True)
    out = work / "ul.json"
    proc = subprocess.run([str(UL_PYTHON), str(ROOT / "benchmarks" / "_ultralytics_side.py"), str(data),
                           str(args.imgsz), str(args.epochs), str(args.batch), str(args.close_mosaic), str(out),
                           str(root / "images" / "test"), ours_ckpt], cwd=work, env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode:
        raise SystemExit(f"ultralytics side failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgsz", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--test", type=int, default=60)
    ap.add_argument("--close-mosaic", type=int, default=2)
    ap.add_argument("--precision", default="32-true", help="ours; Ultralytics trains fp32 on CPU (amp=False)")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="yolo_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    ours = run_ours(work, args)
    ours["map"], ours["map50"] = score(ours["preds"], work)
    ul = run_ultralytics(work, args, str(Path(ours["run"]) / "checkpoints" / "last.ckpt"))
    ours["infer_ms_alone"], ours["infer_ms"] = ours["infer_ms"], ul["ours_infer_ms"]  # the alternating timing
    ul["map"], ul["map50"] = score(ul["preds"], work)
    n = args.train * args.epochs
    rows = [("visiontrain YOLO-n", ours), ("Ultralytics YOLOv8n", ul)]
    print(f"\nshapes-det {args.train} train / {args.test} test images, {args.imgsz} px, {args.epochs} epochs, "
          f"batch {args.batch}, close_mosaic {args.close_mosaic}, CPU 2 threads; work dir {work}")
    print(f"{'':22s} {'mAP50-95':>9s} {'mAP50':>7s} {'train img/s':>12s} {'infer ms/img':>13s} {'own mAP50-95':>13s}")
    for name, r in rows:
        print(f"{name:22s} {r['map']:9.4f} {r['map50']:7.4f} {n / r['train_s']:12.2f} {r['infer_ms']:13.1f} "
              f"{(r['own_map'] if r['own_map'] is not None else float('nan')):13.4f}")
    ratio = lambda a, b: a / b if b else float("inf")
    print(f"ours timed alone after training: {ours['infer_ms_alone']:.1f} ms/img")
    print(f"ratios (ours / Ultralytics): mAP50-95 {ratio(ours['map'], ul['map']):.3f} (target >= 1.0), "
          f"mAP50 {ratio(ours['map50'], ul['map50']):.3f}, train throughput {ratio(ul['train_s'], ours['train_s']):.3f} "
          f"(target >= 1.0), inference time {ratio(ours['infer_ms'], ul['infer_ms']):.3f} (target <= 1.0)")


if __name__ == "__main__":
    main()
