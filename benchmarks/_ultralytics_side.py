"""Runs inside benchmarks/.venv-ultralytics only (Ultralytics is AGPL: the package never imports it).

    train out.json data.yaml imgsz epochs batch close_mosaic
        trains YOLOv8n from yolov8n.yaml; per epoch, the time from the epoch's start to its last training batch
        (validation, checkpointing and set-up excluded, as on our side) and the images it trained on.
    train_e2e out.json data.yaml imgsz epochs batch close_mosaic
        the same training as a user starts it: validation every epoch, checkpoints and plots as Ultralytics' defaults
        have them; the caller times the whole process (start-up included), this records the final validation mAP.
    infer out.json data.yaml imgsz test_images_dir ultralytics_weights our_checkpoint
        Ultralytics' own test mAP, then both models' predictions timed alternately, image by image, in this one
        process, so that the load of a shared machine falls on both alike (this venv sees visiontrain's source;
        visiontrain never sees Ultralytics).
"""

import json
import sys
import time
from pathlib import Path

import torch
from ultralytics import YOLO


def train(out, data, imgsz, epochs, batch, close_mosaic):
    model = YOLO("yolov8n.yaml")  # architecture only, no weights
    epochs_log, state = [], {}

    def epoch_start(trainer):
        state["t0"], state["t1"] = time.perf_counter(), None

    def batch_end(trainer):
        state["t1"], state["threads"] = time.perf_counter(), torch.get_num_threads()

    def epoch_end(trainer):
        epochs_log.append({"seconds": state["t1"] - state["t0"], "images": len(trainer.train_loader.dataset),
                           "threads": state["threads"]})

    model.add_callback("on_train_epoch_start", epoch_start)
    model.add_callback("on_train_batch_end", batch_end)
    model.add_callback("on_train_epoch_end", epoch_end)
    start = time.perf_counter()
    model.train(data=data, imgsz=int(imgsz), epochs=int(epochs), batch=int(batch), device="cpu", workers=0,
                close_mosaic=int(close_mosaic), pretrained=False, amp=False, plots=False, val=False,
                optimizer="AdamW", lr0=0.002, momentum=0.9, warmup_bias_lr=0.0, seed=0, deterministic=False,
                project=str(Path(out).parent / "ul_runs"), name=Path(out).stem, exist_ok=True, verbose=False)
    wall = time.perf_counter() - start
    Path(out).write_text(json.dumps({"wall_s": wall, "epochs": epochs_log,
                                     "weights": str(model.trainer.last)}))


def train_e2e(out, data, imgsz, epochs, batch, close_mosaic):
    model = YOLO("yolov8n.yaml")
    model.train(data=data, imgsz=int(imgsz), epochs=int(epochs), batch=int(batch), device="cpu", workers=0,
                close_mosaic=int(close_mosaic), pretrained=False, amp=False, optimizer="AdamW", lr0=0.002,
                momentum=0.9, warmup_bias_lr=0.0, seed=0, deterministic=False,
                project=str(Path(out).parent / "ul_runs"), name=Path(out).stem, exist_ok=True, verbose=False)
    metrics = model.trainer.metrics or {}
    Path(out).write_text(json.dumps({"weights": str(model.trainer.best if Path(model.trainer.best).exists()
                                                    else model.trainer.last),
                                     "val_map": float(metrics.get("metrics/mAP50-95(B)", float("nan")))}))


def infer(out, data, imgsz, test_dir, ul_weights, ours_ckpt):
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # visiontrain for our side
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    imgsz = int(imgsz)
    model = YOLO(ul_weights)
    own = model.val(data=data, split="test", imgsz=imgsz, batch=8, device="cpu", plots=False, verbose=False)
    ours = load_module(ours_ckpt, read_stored_config(ours_ckpt)).eval()
    images = sorted(Path(test_dir).glob("*.png"))
    kw = {"imgsz": imgsz, "conf": 0.001, "iou": 0.7, "max_det": 300, "device": "cpu", "verbose": False}
    for _ in range(3):  # warm-up (and each side's BN folding)
        model.predict(str(images[0]), **kw)
        ours.predict([images[0]])
    ul_preds, ours_preds, ul_times, ours_times = {}, {}, [], []
    for p in images:
        t0 = time.perf_counter()  # both from the file: read, letterbox, forward, NMS, boxes in original pixels
        r = model.predict(str(p), **kw)[0]
        ul_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        d = ours.predict([p])[0]  # from the path, as Ultralytics' predict
        ours_times.append(time.perf_counter() - t0)
        ul_preds[p.name] = {"boxes": r.boxes.xyxy.tolist(), "scores": r.boxes.conf.tolist(),
                            "labels": r.boxes.cls.int().tolist()}
        ours_preds[p.name] = {k: v.tolist() for k, v in d.items()}
    ours.hparams.predict_multi_label = True  # untimed: ours with evaluation's multi-label candidates, for the mAP
    ours_multi = {p.name: {k: v.tolist() for k, v in ours.predict([p])[0].items()} for p in images}
    Path(out).write_text(json.dumps({
        "own_map": float(own.box.map), "own_map50": float(own.box.map50),
        "threads": torch.get_num_threads(), "ul_infer_ms": 1000 * float(np.median(ul_times)),
        "ours_infer_ms": 1000 * float(np.median(ours_times)),
        "pair_ratios": [o / u for o, u in zip(ours_times, ul_times)], "ul_preds": ul_preds,
        "ours_preds": ours_preds, "ours_preds_multi": ours_multi}))


if __name__ == "__main__":
    # Ultralytics' CPU device selection sets torch's threads to min(8, cores - 1) itself (1 on a 2-core machine);
    # the threads it trained and predicted with are recorded, and the benchmark gives our side the same number
    {"train": train, "train_e2e": train_e2e, "infer": infer}[sys.argv[1]](*sys.argv[2:])
