"""Validation images with predicted and true boxes: W&B's native box overlays (toggleable, with class names and
scores) and a table of them; the labelled mosaics (results/detection_mosaic.py) for the other image loggers and
the run dir."""

from __future__ import annotations

from typing import Sequence

import torch

from visiontrain.imaging import to_uint8


def _box_data(boxes: torch.Tensor, labels: torch.Tensor, names: Sequence[str], scores: torch.Tensor | None) -> list:
    out = []
    for k, (box, label) in enumerate(zip(boxes.tolist(), labels.tolist())):
        name = names[label] if 0 <= label < len(names) else str(label)
        item = {"position": {"minX": box[0], "minY": box[1], "maxX": box[2], "maxY": box[3]}, "domain": "pixel",
                "class_id": int(label), "box_caption": name}
        if scores is not None:
            item["scores"] = {"score": float(scores[k])}
            item["box_caption"] = f"{name} {float(scores[k]):.2f}"
        out.append(item)
    return out


def log_detections(trainer, key: str, images: Sequence[torch.Tensor], predictions: Sequence[dict],
                   targets: Sequence[dict], class_names: Sequence[str], score_threshold: float) -> None:
    """``key``: ``<stage>/detections``. W&B: native box overlays and a table of the samples; every image logger and
    the run dir: the labelled mosaics ``<stage>_batch_labels.png`` / ``<stage>_batch_pred.png``."""
    from pathlib import Path

    from visiontrain.results.detection_mosaic import mosaics
    from visiontrain.results.figures import save_and_log
    from visiontrain.results.publish import log_table, wandb_loggers

    if not trainer.is_global_zero or not images:
        return
    kept = [{k: v[p["scores"] >= score_threshold] for k, v in p.items() if k in ("boxes", "labels", "scores")}
            for p in predictions]
    stage = key.split("/", 1)[0]
    loggers = wandb_loggers(trainer)
    if loggers:
        class_labels = {i: n for i, n in enumerate(class_names)}
        pictures = [to_uint8(im) for im in images]
        boxes = [{"predictions": {"box_data": _box_data(p["boxes"], p["labels"], class_names, p["scores"]),
                                  "class_labels": class_labels},
                  "ground_truth": {"box_data": _box_data(t["boxes"], t["labels"], class_names, None),
                                   "class_labels": class_labels}} for p, t in zip(kept, targets)]
        for lg in loggers:
            lg.log_image(key=key, images=pictures, boxes=boxes, step=trainer.global_step)

        def rows():
            import wandb

            return [[i, wandb.Image(pic, boxes=b), len(t["boxes"]), len(p["boxes"]),
                     ", ".join(sorted({class_names[int(c)] for c in p["labels"]}))]
                    for i, (pic, b, t, p) in enumerate(zip(pictures, boxes, targets, kept))]

        log_table(trainer, f"{stage}/samples", ["sample", "image", "true boxes", "predicted boxes",
                                                "predicted classes"], rows)
    run_dir = getattr(trainer, "default_root_dir", None)
    for name, fig in mosaics(images, kept, targets, class_names, score_threshold).items():
        save_and_log(trainer, f"{stage}/{name}", fig, Path(run_dir) / f"{stage}_{name}.png" if run_dir else None,
                     wandb=False)
