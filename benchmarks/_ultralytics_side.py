"""Runs inside benchmarks/.venv-ultralytics only (Ultralytics is AGPL: the package never imports it).
argv: data.yaml imgsz epochs batch close_mosaic out.json test_images_dir our_checkpoint

Inference is timed here for both models, alternating image by image in one process, so that the load of a shared
machine falls on both alike (this venv sees visiontrain's source; visiontrain never sees Ultralytics)."""

import json
import sys
import time
from pathlib import Path

import torch
from ultralytics import YOLO

data, imgsz, epochs, batch, close_mosaic, out, test_dir, ours_ckpt = sys.argv[1:9]
imgsz, epochs, batch, close_mosaic = int(imgsz), int(epochs), int(batch), int(close_mosaic)
torch.set_num_threads(2)
model = YOLO("yolov8n.yaml")  # architecture only, no weights
start = time.perf_counter()
model.train(data=data, imgsz=imgsz, epochs=epochs, batch=batch, device="cpu", workers=0, close_mosaic=close_mosaic,
            pretrained=False, amp=False, plots=False, val=False, optimizer="AdamW", lr0=0.002, momentum=0.9,
            warmup_bias_lr=0.0, seed=0, deterministic=False, project=str(Path(out).parent / "ul_runs"),
            name="v8n", exist_ok=True, verbose=False)
train_s = time.perf_counter() - start
own = model.val(data=data, split="test", imgsz=imgsz, batch=batch, device="cpu", plots=False, verbose=False)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import numpy as np
from PIL import Image

from visiontrain.utils.checkpoints import load_module, read_stored_config

ours = load_module(ours_ckpt, read_stored_config(ours_ckpt)).eval()
torch.set_num_threads(2)
preds, times, ours_times = {}, [], []
images = sorted(Path(test_dir).glob("*.png"))
model.predict(str(images[0]), imgsz=imgsz, device="cpu", verbose=False)  # warm-up (and Ultralytics' BN fusion)
ours.predict([np.asarray(Image.open(images[0]).convert("RGB"))])
for p in images:
    t0 = time.perf_counter()  # both from the file: read, letterbox, forward, NMS
    r = model.predict(str(p), imgsz=imgsz, conf=0.001, iou=0.7, max_det=300, device="cpu", verbose=False)[0]
    times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    ours.predict([np.asarray(Image.open(p).convert("RGB"))])
    ours_times.append(time.perf_counter() - t0)
    preds[p.name] = {"boxes": r.boxes.xyxy.tolist(), "scores": r.boxes.conf.tolist(),
                     "labels": r.boxes.cls.int().tolist()}
Path(out).write_text(json.dumps({"train_s": train_s, "own_map": float(own.box.map), "own_map50": float(own.box.map50),
           "infer_ms": 1000 * float(np.median(times)), "ours_infer_ms": 1000 * float(np.median(ours_times)),
           "preds": preds}))
