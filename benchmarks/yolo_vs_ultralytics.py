"""This project's YOLO-n vs Ultralytics YOLOv8n (from yolov8n.yaml, no weights), same generated shapes-det (written
in YOLO format, which both read), same image size, epochs, batch size, optimiser settings, CPU, the same
number of torch threads on both sides (Ultralytics sets min(8, cores - 1) itself on CPU: 1 on a 2-core machine; ours
gets that number unless ``--threads`` says otherwise) and 0 dataloader workers (Ultralytics forces 0 on CPU; ours
takes ``--workers``).

Training throughput, the same definition on both sides: images trained / time, summed over epochs 2..E (the
first epoch is warm-up), each epoch timed from its start to the end of its last training batch, so data loading,
forward, loss, backward, optimiser and EMA are in and set-up, validation and checkpointing are out. The two
trainings alternate (ours, Ultralytics, ours, …, ``--repeats`` pairs) so that a shared machine's changing load
falls on both; the ratio is the median of the per-pair ratios. Wall time of each whole training call is printed
too.

Both are scored by the same evaluator (torchmetrics COCO mAP, this project's detection metric) on the test split,
from predictions in original image coordinates (conf 0.001, IoU 0.7, max 300); Ultralytics' own mAP is shown too.
Inference ms/image = median over the test images of one-image prediction from the file path (read, letterbox,
forward with BN folded into the convolutions, NMS; each side's ``predict`` with its default: one class per box),
both models timed alternately image by image in one process. ``--infer-only --work DIR --imgsz N`` repeats just
this (and the scoring) on the pair an earlier run left in DIR.

``--end-to-end``: the wall clock of the whole run as a user starts it, instead of the training batches alone: our
``vt-train`` and Ultralytics' ``model.train`` each in their own process, timed from launch to exit, with validation
every epoch (ours: COCO mAP at its defaults; Ultralytics: its val at conf 0.001), checkpoints, loader start-up and
the figures each writes by default; the runs alternate and the ratio is the median of the per-pair ratios. Both
final models are then scored on the test split by the same evaluator as above.

    python -m venv benchmarks/.venv-ultralytics   # plus ultralytics; see benchmarks/README.md
    NO_ALBUMENTATIONS_UPDATE=1 WANDB_MODE=offline .venv/bin/python benchmarks/yolo_vs_ultralytics.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl

ROOT = Path(__file__).resolve().parents[1]
UL_PYTHON = ROOT / "benchmarks" / ".venv-ultralytics" / "bin" / "python"


class EpochTimer(pl.Callback):
    """Per epoch: seconds from the epoch's start to its last training batch's end, and the images trained on."""

    def __init__(self, out: str) -> None:
        self.out, self.epochs = out, []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.t0, self.t1, self.n = time.perf_counter(), None, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.t1 = time.perf_counter()
        self.n += len(batch[0])

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epochs.append({"seconds": self.t1 - self.t0, "images": self.n})
        Path(self.out).write_text(json.dumps(self.epochs))


def overrides(work: Path, args) -> list[str]:
    return ["experiment=det_shapes_yolo", "logger=none", "callbacks.rich_progress_bar=null",
            "trainer.enable_progress_bar=false", f"paths.root_dir={work}", f"paths.data_dir={work}/data",
            f"data.source.num_train={args.train}", "data.source.num_val=20", f"data.source.num_test={args.test}",
            f"data.source.image_size={args.imgsz}", f"data.img_size={args.imgsz}", f"data.batch_size={args.batch}",
            f"data.close_mosaic={args.close_mosaic}", f"trainer.max_epochs={args.epochs}",
            f"trainer.check_val_every_n_epoch={args.epochs}", "trainer.num_sanity_val_steps=0",
            "data.source.format=yolo", "test=false", f"trainer.precision={args.precision}", "model.log_images=0",
            f"data.num_workers={args.workers}"]


def prepare_data(work: Path, args) -> None:
    from hydra.utils import instantiate

    instantiate(_compose(overrides(work, args), work / "prepare").data.source).prepare()


def train_ours(work: Path, args, rep: int) -> dict:
    import torch
    from omegaconf import open_dict

    run = work / f"ours_run{rep}"
    cfg = _compose(overrides(work, args), run)
    timing = run / "epochs.json"
    with open_dict(cfg):
        cfg.callbacks.bench_timer = {"_target_": f"{__name__ if __name__ != '__main__' else Path(__file__).stem}"
                                                 ".EpochTimer", "out": str(timing)}
    torch.set_num_threads(args.threads)
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    start = time.perf_counter()
    run_job(cfg, train)
    wall = time.perf_counter() - start
    record = json.loads((run / "metrics.json").read_text())
    if record["status"] != "finished":
        raise SystemExit(f"our run failed: {record.get('error')}")
    return {"wall_s": wall, "epochs": json.loads(timing.read_text()),
            "weights": str(run / "checkpoints" / "last.ckpt")}


def train_ours_e2e(work: Path, args, rep: int) -> dict:
    """``vt-train`` in its own process, as a user starts it: validation every epoch, checkpoints, results files."""
    run = work / f"ours_e2e{rep}"
    shutil.rmtree(run, ignore_errors=True)  # a rerun in the same --work starts a new run, not a resume
    keep_out = ("trainer.check_val_every_n_epoch=", "test=", "model.log_images=", "logger=")
    cmd = [str(ROOT / ".venv" / "bin" / "vt-train"), *(o for o in overrides(work, args) if not o.startswith(keep_out)),
           "logger=csv", "test=false", f"hydra.run.dir={run}"]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "WANDB_MODE": "disabled"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"our run failed:\n{proc.stderr[-3000:]}")
    record = json.loads((run / "metrics.json").read_text())
    return {"wall_s": wall, "weights": str(run / "checkpoints" / "last.ckpt"),
            "val_map": record["metrics"].get("val/map", float("nan"))}


def end_to_end(work: Path, args, env: dict, data: Path) -> None:
    ours_runs, ul_runs = [], []
    for rep in range(args.repeats):
        order = ("ours", "ul") if rep % 2 == 0 else ("ul", "ours")
        for side in order:
            if side == "ours":
                ours_runs.append(train_ours_e2e(work, args, rep))
            else:
                out = work / f"ul_e2e{rep}.json"
                start = time.perf_counter()
                proc = subprocess.run([str(UL_PYTHON), str(ROOT / "benchmarks" / "_ultralytics_side.py"), "train_e2e",
                                       str(out), str(data), str(args.imgsz), str(args.epochs), str(args.batch),
                                       str(args.close_mosaic)], cwd=work, env=env, capture_output=True, text=True)
                wall = time.perf_counter() - start
                if proc.returncode:
                    raise SystemExit(f"ultralytics side failed:\n{proc.stderr[-3000:]}")
                ul_runs.append({"wall_s": wall, **json.loads(out.read_text())})
        print(f"pair {rep}: wall s ours {ours_runs[-1]['wall_s']:.1f}, Ultralytics {ul_runs[-1]['wall_s']:.1f}",
              flush=True)
    inf = infer(env, work, data, args.imgsz, ul_runs[-1]["weights"], ours_runs[-1]["weights"])
    ours_map, ul_map = score(inf["ours_preds"], work), score(inf["ul_preds"], work)
    ratios = [o["wall_s"] / u["wall_s"] for o, u in zip(ours_runs, ul_runs)]
    print(f"\nend to end: shapes-det {args.train} train / {args.test} test images, {args.imgsz} px, {args.epochs} "
          f"epochs, batch {args.batch}, threads {args.threads}; {args.repeats} alternating pair(s); work dir {work}")
    print(f"wall s: ours {statistics.median(r['wall_s'] for r in ours_runs):.1f}, Ultralytics "
          f"{statistics.median(r['wall_s'] for r in ul_runs):.1f}; ratio {statistics.median(ratios):.3f} (pairs "
          f"{', '.join(f'{r:.3f}' for r in ratios)}; target <= 0.8)")
    print(f"test mAP50-95 (one evaluator): ours {ours_map[0]:.4f}, Ultralytics {ul_map[0]:.4f} (target: ours >= "
          f"Ultralytics); mAP50 {ours_map[1]:.4f} / {ul_map[1]:.4f}")


def _compose(overrides: list[str], run: Path):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from visiontrain.config.paths import CONFIG_DIR
    from visiontrain.config.resolvers import register_resolvers

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    run.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        cfg.paths.output_dir = cfg.hydra.runtime.output_dir = str(run)
        cfg.hydra.job.id, cfg.hydra.job.num = "bench", 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def throughput(result: dict) -> float:
    timed = result["epochs"][1:] or result["epochs"]  # epoch 1 is warm-up
    return sum(e["images"] for e in timed) / sum(e["seconds"] for e in timed)


def score(preds: dict, work: Path) -> tuple[float, float]:
    """Both sides' predictions, one evaluator: torchmetrics COCO mAP on the test split (YOLO-format labels)."""
    import torch

    from visiontrain.data.formats.yolo import YoloReader
    from visiontrain.models.shared.detection_metrics import make_map

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


def ultralytics_env(work: Path) -> tuple[dict, Path]:
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
    # no experiment-tracker integrations: Ultralytics logs to MLflow on its own whenever mlflow is importable (it is,
    # through the main venv), which our side (logger=csv) does not do
    off = [f"{k}=False" for k in ("sync", "mlflow", "clearml", "comet", "dvc", "raytune", "tensorboard", "wandb")]
    subprocess.run([str(UL_PYTHON.parent / "yolo"), "settings", *off], env=env, capture_output=True, check=True)
    return env, data


def ultralytics(mode: str, env: dict, work: Path, *argv: str) -> dict:
    """One ``_ultralytics_side.py`` call in the benchmark venv; returns the JSON it writes."""
    out = work / f"ul_{mode}_{time.monotonic_ns()}.json"
    proc = subprocess.run([str(UL_PYTHON), str(ROOT / "benchmarks" / "_ultralytics_side.py"), mode, str(out), *argv],
                          cwd=work, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"ultralytics side failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def infer(env: dict, work: Path, data: Path, imgsz: int, ul_weights: str, ours_ckpt: str) -> dict:
    return ultralytics("infer", env, work, str(data), str(imgsz), str(work / "data" / "shapes_det" / "images" / "test"),
                       ul_weights, ours_ckpt)


def infer_only(args) -> None:
    """Inference timing and mAP of a pair trained by an earlier run of this script in ``--work``."""
    if not args.work:
        raise SystemExit("--infer-only needs --work: the work dir of an earlier run")
    work = Path(args.work)
    latest = lambda pattern: max(work.glob(pattern), key=lambda f: f.stat().st_mtime, default=None)
    ours, ul = latest("ours_run*/checkpoints/last.ckpt"), latest("ul_runs/*/weights/last.pt")
    if ours is None or ul is None:
        raise SystemExit(f"{work}: no trained pair (ours_run*/checkpoints/last.ckpt, ul_runs/*/weights/last.pt)")
    env, data = ultralytics_env(work)
    inf = infer(env, work, data, args.imgsz, str(ul), str(ours))
    print(f"\ninference only, {args.imgsz} px, pair {ours} / {ul}, threads {inf['threads']}")
    report_inference(inf, work)


def report_inference(inf: dict, work: Path) -> None:
    ours_map, ours_multi, ul_map = (score(inf[k], work) for k in ("ours_preds", "ours_preds_multi", "ul_preds"))
    print(f"{'':22s} {'mAP50-95':>9s} {'mAP50':>7s} {'infer ms/img':>13s}")
    print(f"{'visiontrain YOLO-n':22s} {ours_map[0]:9.4f} {ours_map[1]:7.4f} {inf['ours_infer_ms']:13.1f}")
    print(f"{'Ultralytics YOLOv8n':22s} {ul_map[0]:9.4f} {ul_map[1]:7.4f} {inf['ul_infer_ms']:13.1f}")
    print(f"ours with multi-label candidates (the evaluation setting, untimed): mAP50-95 {ours_multi[0]:.4f}, "
          f"mAP50 {ours_multi[1]:.4f}; Ultralytics' own evaluator on its test predictions: mAP50-95 "
          f"{inf['own_map']:.4f}, mAP50 {inf['own_map50']:.4f}")
    print(f"inference time ratio ours / Ultralytics {statistics.median(inf['pair_ratios']):.3f} (median of "
          f"{len(inf['pair_ratios'])} per-image ratios; target <= 1.0)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgsz", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--test", type=int, default=60)
    ap.add_argument("--close-mosaic", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="alternating training pairs (ours, Ultralytics)")
    ap.add_argument("--threads", type=int, default=min(8, max(1, (os.cpu_count() or 2) - 1)),
                    help="torch threads for our side; default: what Ultralytics sets for itself on CPU")
    ap.add_argument("--workers", type=int, default=0,
                    help="our side's loader workers (persistent); Ultralytics uses 0 on CPU whatever it is told")
    ap.add_argument("--precision", default="32-true", help="ours; Ultralytics trains fp32 on CPU (amp=False)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--end-to-end", action="store_true",
                    help="time whole runs as users start them (validation, checkpoints, start-up included)")
    ap.add_argument("--infer-only", action="store_true",
                    help="no training: time inference (and score) the last trained pair already in --work (give "
                         "the --imgsz it was trained with)")
    args = ap.parse_args()
    if args.infer_only:
        return infer_only(args)
    if args.epochs < 2:
        raise SystemExit("--epochs must be >= 2 (the first epoch is warm-up, not timed)")
    work = Path(args.work or tempfile.mkdtemp(prefix="yolo_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    prepare_data(work, args)  # written before any clock starts
    env, data = ultralytics_env(work)
    if args.end_to_end:
        return end_to_end(work, args, env, data)
    ours_runs, ul_runs = [], []
    for rep in range(args.repeats):
        ours_runs.append(train_ours(work, args, rep))
        ul_runs.append(ultralytics("train", env, work, str(data), str(args.imgsz), str(args.epochs), str(args.batch),
                                   str(args.close_mosaic)))
        print(f"pair {rep}: train img/s ours {throughput(ours_runs[-1]):.2f}, Ultralytics "
              f"{throughput(ul_runs[-1]):.2f}; wall s ours {ours_runs[-1]['wall_s']:.1f}, Ultralytics "
              f"{ul_runs[-1]['wall_s']:.1f}", flush=True)
    inf = infer(env, work, data, args.imgsz, ul_runs[-1]["weights"], ours_runs[-1]["weights"])
    ours_map, ul_map = score(inf["ours_preds"], work), score(inf["ul_preds"], work)
    ours_ips = [throughput(r) for r in ours_runs]
    ul_ips = [throughput(r) for r in ul_runs]
    train_ratio = statistics.median(o / u for o, u in zip(ours_ips, ul_ips))
    infer_ratio = statistics.median(inf["pair_ratios"])
    ul_threads = sorted({e.get("threads") for r in ul_runs for e in r["epochs"]})
    print(f"\nshapes-det {args.train} train / {args.test} test images, {args.imgsz} px, {args.epochs} epochs, "
          f"batch {args.batch}, close_mosaic {args.close_mosaic}, CPU threads: ours {args.threads}, Ultralytics "
          f"{ul_threads} (training), both {inf['threads']} (inference), precision (ours) {args.precision}, "
          f"{args.repeats} alternating training pair(s); work dir {work}")
    print(f"{'':22s} {'mAP50-95':>9s} {'mAP50':>7s} {'train img/s':>12s} {'wall s':>8s} {'infer ms/img':>13s}")
    for name, m, ips, runs, ms in (("visiontrain YOLO-n", ours_map, ours_ips, ours_runs, inf["ours_infer_ms"]),
                                   ("Ultralytics YOLOv8n", ul_map, ul_ips, ul_runs, inf["ul_infer_ms"])):
        print(f"{name:22s} {m[0]:9.4f} {m[1]:7.4f} {statistics.median(ips):12.2f} "
              f"{statistics.median(r['wall_s'] for r in runs):8.1f} {ms:13.1f}")
    print(f"Ultralytics' own evaluator on its test predictions: mAP50-95 {inf['own_map']:.4f}, "
          f"mAP50 {inf['own_map50']:.4f}")
    ours_multi = score(inf["ours_preds_multi"], work)
    print(f"ours with multi-label candidates (the evaluation setting; predict is single-label like Ultralytics' "
          f"predict): mAP50-95 {ours_multi[0]:.4f}, mAP50 {ours_multi[1]:.4f}")
    ratio = lambda a, b: a / b if b else float("nan")  # 0 / 0 (untrained pair): no ratio
    print(f"ratios (ours / Ultralytics): mAP50-95 {ratio(ours_map[0], ul_map[0]):.3f} (target >= 1.0), "
          f"mAP50 {ratio(ours_map[1], ul_map[1]):.3f}, train throughput {train_ratio:.3f} (median of per-pair "
          f"ratios {', '.join(f'{o / u:.3f}' for o, u in zip(ours_ips, ul_ips))}; target >= 1.0), "
          f"inference time {infer_ratio:.3f} (median of per-image ratios; target <= 1.0)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # EpochTimer by module name for Hydra
    main()
