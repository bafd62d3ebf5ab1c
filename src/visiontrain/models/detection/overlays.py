"""Validation images with predicted and true boxes: W&B's native box overlays (toggleable, with class names and
scores); boxes drawn into the pixels for TensorBoard / MLflow."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return (image.detach().cpu().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


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
    from pytorch_lightning.loggers import WandbLogger

    from visiontrain.utils.figures import log_image_array

    if not trainer.is_global_zero or not images:
        return
    kept = [{k: v[p["scores"] >= score_threshold] for k, v in p.items() if k in ("boxes", "labels", "scores")}
            for p in predictions]
    class_labels = {i: n for i, n in enumerate(class_names)}
    pictures = [_to_uint8(im) for im in images]
    for lg in trainer.loggers:
        if isinstance(lg, WandbLogger):
            boxes = [{"predictions": {"box_data": _box_data(p["boxes"], p["labels"], class_names, p["scores"]),
                                      "class_labels": class_labels},
                      "ground_truth": {"box_data": _box_data(t["boxes"], t["labels"], class_names, None),
                                       "class_labels": class_labels}} for p, t in zip(kept, targets)]
            lg.log_image(key=key, images=pictures, boxes=boxes, step=trainer.global_step)
    others = [lg for lg in trainer.loggers if not isinstance(lg, WandbLogger)]
    if others:
        from torchvision.utils import draw_bounding_boxes, make_grid

        drawn = []
        for im, p, t in zip(images, kept, targets):
            pixels = (im.detach().cpu().clamp(0, 1) * 255).byte()
            pixels = draw_bounding_boxes(pixels, t["boxes"].cpu(), colors="lime", width=1)
            captions = [f"{class_names[int(label)]} {float(s):.2f}" for label, s in zip(p["labels"], p["scores"])]
            drawn.append(draw_bounding_boxes(pixels, p["boxes"].cpu(), captions, colors="red", width=2))
        same_size = len({d.shape for d in drawn}) == 1
        grid = make_grid(drawn, nrow=len(drawn)) if same_size else drawn[0]
        log_image_array(trainer, key, grid.permute(1, 2, 0).numpy())
