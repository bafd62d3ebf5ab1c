"""Per-class metric tables (W&B ``wandb.Table`` through ``publish.log_table``): one row per class, so a run's weak
classes can be sorted and compared across runs in the W&B UI."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from visiontrain.results.classification_figures import precision_recall


def _number(value) -> float | None:
    value = float(value)
    return None if not np.isfinite(value) or value < 0 else round(value, 5)  # COCO's -1: no such class


def detection_rows(result: dict, matrix: np.ndarray, class_names: Sequence[str]) -> list[list]:
    """class, AP50, AP (0.5:0.95), precision, recall (at the confusion matrix's score and IoU thresholds), true
    boxes. ``matrix``: rows true, columns predicted, background last."""
    from visiontrain.results.detection_figures import curves

    prefix = "bbox_" if "bbox_precision" in result else ""
    ap50 = {name: float(p.mean()) for name, (p, _) in (curves(result, class_names, prefix) or {}).items()}
    classes = result.get(f"{prefix}classes", result.get("classes"))
    per_class = result.get(f"{prefix}map_per_class")
    ap = {}
    if classes is not None and per_class is not None:
        labels, values = np.atleast_1d(classes.cpu().numpy()), np.atleast_1d(per_class.cpu().numpy())
        ap = {class_names[int(c)]: v for c, v in zip(labels, values) if 0 <= int(c) < len(class_names)}
    precision, recall = precision_recall(matrix)
    return [[name, _number(ap50.get(name, -1)), _number(ap.get(name, -1)), _number(precision[i]),
             _number(recall[i]), int(matrix[i].sum())] for i, name in enumerate(class_names)]


DETECTION_COLUMNS = ("class", "AP50", "AP", "precision", "recall", "true boxes")


def segmentation_rows(matrix: np.ndarray, class_names: Sequence[str]) -> list[list]:
    """class, IoU, precision, recall, true pixels, from the pixel confusion matrix (rows true)."""
    from visiontrain.results.segmentation_figures import iou_from_confusion

    iou = iou_from_confusion(matrix)
    precision, recall = precision_recall(matrix)
    return [[name, _number(iou[i]), _number(precision[i]), _number(recall[i]), int(matrix[i].sum())]
            for i, name in enumerate(class_names)]


SEGMENTATION_COLUMNS = ("class", "IoU", "precision", "recall", "true pixels")


def log_class_table(trainer, stage: str, columns: Sequence[str], rows) -> bool:
    """``<stage>/per_class`` on W&B; rank zero, not during the sanity check."""
    if trainer.sanity_checking:
        return False
    from visiontrain.results.publish import log_table

    return log_table(trainer, f"{stage}/per_class", columns, rows)
