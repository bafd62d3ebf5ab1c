"""COCO mAP through torchmetrics (faster_coco_eval backend when installed, else pycocotools), with the
dataset's own object areas and crowd/difficult objects ignored as COCOeval does."""

from __future__ import annotations

import importlib.util
import logging
import math
from typing import Literal, Sequence

import torch
from torchmetrics.detection import MeanAveragePrecision

Backend = Literal["auto", "faster_coco_eval", "pycocotools"]
SUMMARY = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1", "mar_10", "mar_100")


def resolve_backend(backend: Backend) -> str:
    if backend != "auto":
        return backend
    return "faster_coco_eval" if importlib.util.find_spec("faster_coco_eval") else "pycocotools"


def make_map(masks: bool = False, class_metrics: bool = True, backend: Backend = "auto") -> MeanAveragePrecision:
    # faster_coco_eval logs its whole summary table at INFO on every compute; the run logs the numbers itself
    logging.getLogger("faster_coco_eval").setLevel(logging.WARNING)
    # extended_summary: the precision/score arrays the PR and F1 curves are drawn from (results/detection_figures)
    return MeanAveragePrecision(box_format="xyxy", iou_type=("bbox", "segm") if masks else "bbox",
                                class_metrics=class_metrics, backend=resolve_backend(backend), extended_summary=True)


def metric_inputs(predictions: Sequence[dict], targets: Sequence[dict], masks: bool = False
                  ) -> tuple[list[dict], list[dict]]:
    """Model outputs and dataset targets (labels 0..K-1) → torchmetrics' dicts. VOC 'difficult' objects count as
    crowd: detections on them are neither rewarded nor punished."""
    preds, gts = [], []
    for p, t in zip(predictions, targets):
        pred = {"boxes": p["boxes"].detach().float().cpu(), "scores": p["scores"].detach().float().cpu(),
                "labels": p["labels"].detach().cpu()}
        gt = {"boxes": t["boxes"].float().cpu(), "labels": t["labels"].cpu(),
              "iscrowd": (t["iscrowd"].bool() | t["difficult"].bool()).long().cpu()
              if "difficult" in t else t["iscrowd"].long().cpu()}
        if "area" in t:
            gt["area"] = t["area"].float().cpu()
        if masks:
            m = p["masks"].detach().cpu()
            pred["masks"] = (m[:, 0] if m.ndim == 4 else m) > 0.5
            gt["masks"] = t["masks"].bool().cpu()
        preds.append(pred)
        gts.append(gt)
    return preds, gts


def flatten(result: dict, stage: str, class_names: Sequence[str], masks: bool = False,
            class_metrics: bool = True) -> dict[str, float]:
    """torchmetrics' result → ``{stage}/map``, ``{stage}/map_50``, …, ``{stage}/map_segm``, ``{stage}/ap/<class>``."""
    out: dict[str, float] = {}
    for iou_type in ("bbox", "segm") if masks else ("bbox",):
        prefix = f"{iou_type}_" if masks else ""
        suffix = "_segm" if iou_type == "segm" else ""
        for key in SUMMARY:
            if f"{prefix}{key}" in result:
                out[f"{stage}/{key}{suffix}"] = float(result[f"{prefix}{key}"])
        per_class = result.get(f"{prefix}map_per_class")
        classes = result.get(f"{prefix}classes", result.get("classes"))
        if class_metrics and per_class is not None and classes is not None:
            for label, ap in zip(torch.atleast_1d(classes).tolist(), torch.atleast_1d(per_class).tolist()):
                if 0 <= label < len(class_names):
                    out[f"{stage}/ap{suffix}/{class_names[label]}"] = float(ap)
    return out


def log_map(module, metric: MeanAveragePrecision, stage: str, class_names: Sequence[str], masks: bool = False,
            class_metrics: bool = True, confusion=None) -> None:
    """Compute, reset and log a stage's mAP from a LightningModule (detection and YOLO share this); then its curves,
    its confusion matrix (``confusion``: a results.detection_confusion.DetectionConfusion) and per-class table."""
    result = metric.compute()  # torchmetrics syncs the states across DDP processes first, so every rank logs the same
    metric.reset()
    matrix = None
    if confusion is not None:
        matrix = confusion.compute().cpu().numpy()  # synced the same way: every rank takes part
        confusion.reset()
    for name, value in flatten(result, stage, class_names, masks, class_metrics).items():
        module.log(name, value if math.isfinite(value) else -1.0, prog_bar=name.endswith(("/map", "/map_50")))
    if getattr(module, "_trainer", None) is None:
        return
    from visiontrain.results.detection_figures import log_detection_curves
    from visiontrain.results.figures import figures_due

    trainer = module.trainer
    if not figures_due(trainer, stage):
        return
    log_detection_curves(trainer, result, stage, class_names)
    if matrix is not None:
        from visiontrain.results.class_tables import DETECTION_COLUMNS, detection_rows, log_class_table
        from visiontrain.results.detection_confusion import log_detection_confusion

        log_detection_confusion(trainer, matrix, stage, class_names, confusion.score_threshold,
                                confusion.iou_threshold)
        log_class_table(trainer, stage, DETECTION_COLUMNS, lambda: detection_rows(result, matrix, class_names))


def add_eval_metrics(module, n_classes: int, masks: bool = False) -> None:
    """A detector's validation and test metrics: ``{val,test}_map`` and ``{val,test}_confusion`` (from its
    ``class_metrics``, ``map_backend`` and ``confusion_score_threshold`` hyperparameters)."""
    from visiontrain.results.detection_confusion import DetectionConfusion

    h = module.hparams
    for stage in ("val", "test"):
        setattr(module, f"{stage}_map", make_map(masks, h.class_metrics, h.map_backend))
        setattr(module, f"{stage}_confusion", DetectionConfusion(n_classes, h.get("confusion_score_threshold", 0.25)))


def update_eval_metrics(module, stage: str, preds: list[dict], targets: list[dict]) -> None:
    getattr(module, f"{stage}_map").update(preds, targets)
    getattr(module, f"{stage}_confusion").update(preds, targets)


def log_eval_metrics(module, stage: str, masks: bool = False) -> None:
    log_map(module, getattr(module, f"{stage}_map"), stage, module.class_names, masks, module.hparams.class_metrics,
            getattr(module, f"{stage}_confusion"))
