"""Detection confusion matrix with a background class (Ultralytics' confusion_matrix.png), shared by the torchvision
detectors and YOLO.

Per image, predictions scoring at least ``score_threshold`` are matched to ground truth class-agnostically: every
(truth, prediction) pair with IoU > ``iou_threshold``, highest IoU first, each prediction and each truth used once.
A matched pair counts at (true class, predicted class); an unmatched truth at (true class, background) — missed; an
unmatched prediction at (background, predicted class) — a false positive. Rows are true, columns predicted (as the
classification and segmentation matrices); background is the last row and column. Crowd / VOC-difficult truths are
left out (mAP neither rewards nor punishes them)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchmetrics import Metric


def match(gt_boxes: torch.Tensor, pred_boxes: torch.Tensor, iou_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching by IoU (Ultralytics' rule) → (truth indices, prediction indices) of the pairs."""
    from torchvision.ops import box_iou

    if not len(gt_boxes) or not len(pred_boxes):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    iou = box_iou(gt_boxes.float(), pred_boxes.float())
    g, p = torch.nonzero(iou > iou_threshold, as_tuple=True)
    if not len(g):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.stack([g.numpy(), p.numpy(), iou[g, p].numpy()], axis=1)
    pairs = pairs[pairs[:, 2].argsort()[::-1]]  # highest IoU first: np.unique keeps each index's first pair
    pairs = pairs[np.unique(pairs[:, 1], return_index=True)[1]]
    pairs = pairs[pairs[:, 2].argsort()[::-1]]
    pairs = pairs[np.unique(pairs[:, 0], return_index=True)[1]]
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def image_counts(num_classes: int, gt_boxes, gt_labels, pred_boxes, pred_labels, iou_threshold: float) -> np.ndarray:
    """One image's (K+1)x(K+1) counts; index K is background."""
    k = num_classes
    gi, pi = match(gt_boxes, pred_boxes, iou_threshold)
    gl, pl = gt_labels.numpy().astype(np.int64), pred_labels.numpy().astype(np.int64)
    true = np.full(len(gl) + len(pl), k, dtype=np.int64)  # one entry per truth, then one per prediction
    pred = np.full(len(gl) + len(pl), k, dtype=np.int64)
    true[: len(gl)] = gl  # each truth: missed (predicted background) unless matched
    pred[gi] = pl[pi]
    unmatched = np.ones(len(pl), dtype=bool)
    unmatched[pi] = False
    pred[len(gl):] = pl  # each prediction: a false positive on background unless matched
    keep = np.concatenate([np.ones(len(gl), dtype=bool), unmatched])
    return np.bincount(true[keep] * (k + 1) + pred[keep], minlength=(k + 1) ** 2).reshape(k + 1, k + 1)


class DetectionConfusion(Metric):
    """Accumulates the matrix over a split; summed across DDP processes like any torchmetrics state."""

    full_state_update = False

    def __init__(self, num_classes: int, score_threshold: float = 0.25, iou_threshold: float = 0.5) -> None:
        super().__init__()
        if not 0 <= score_threshold < 1 or not 0 < iou_threshold < 1:
            from visiontrain.errors import ConfigError

            raise ConfigError(f"model.confusion_score_threshold: {score_threshold} must be in [0, 1) (IoU threshold "
                              f"{iou_threshold}: in (0, 1))")
        self.num_classes, self.score_threshold, self.iou_threshold = num_classes, score_threshold, iou_threshold
        self.add_state("matrix", torch.zeros(num_classes + 1, num_classes + 1, dtype=torch.long),
                       dist_reduce_fx="sum")

    def update(self, preds: Sequence[dict], targets: Sequence[dict]) -> None:
        """torchmetrics' mAP inputs (``metric_inputs``): boxes xyxy, labels 0..K-1, scores, truth ``iscrowd``."""
        total = np.zeros((self.num_classes + 1,) * 2, dtype=np.int64)
        for p, t in zip(preds, targets):  # per image; the boxes inside one image are handled as arrays
            kept = p["scores"] >= self.score_threshold
            real = t["iscrowd"] == 0 if "iscrowd" in t else torch.ones(len(t["labels"]), dtype=torch.bool)
            total += image_counts(self.num_classes, t["boxes"][real].cpu(), t["labels"][real].cpu(),
                                  p["boxes"][kept].cpu(), p["labels"][kept].cpu(), self.iou_threshold)
        self.matrix += torch.from_numpy(total).to(self.matrix.device)

    def compute(self) -> torch.Tensor:
        return self.matrix


def confusion_figures(matrix: np.ndarray, class_names: Sequence[str], score_threshold: float,
                      iou_threshold: float) -> dict[str, object]:
    """``confusion_matrix`` (counts) and ``confusion_matrix_normalized`` (per true row) figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*class_names, "background"]
    n = len(names)
    rows = matrix.sum(1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    out = {}
    for key, values, fmt in (("confusion_matrix", matrix, "d"), ("confusion_matrix_normalized", norm, ".2f")):
        size = max(5.0, 2.5 + 0.5 * n)
        fig, ax = plt.subplots(figsize=(size, size))
        im = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if fmt != "d" else max(1, int(values.max())))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        if n <= 30:
            ax.set_xticks(range(n), names, rotation=90)
            ax.set_yticks(range(n), names)
            top = values.max() or 1
            for i in range(n):
                for j in range(n):
                    if values[i, j]:
                        ax.text(j, i, format(values[i, j], fmt), ha="center", va="center", fontsize=7,
                                color="white" if values[i, j] > 0.5 * top else "black")
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_title(f"detection confusion matrix{', normalised per true row' if fmt != 'd' else ''}\n"
                     f"IoU > {iou_threshold:g}, score >= {score_threshold:g}; background: missed / false positive",
                     fontsize=9)
        fig.tight_layout()
        out[key] = fig
    return out


def log_detection_confusion(trainer, matrix: np.ndarray, stage: str, class_names: Sequence[str],
                            score_threshold: float, iou_threshold: float) -> list:
    """Both figures to the image loggers and the run dir (``confusion_matrix.png``; test: ``test_…``). Rank zero
    only; nothing during the sanity check or without any box."""
    if trainer.sanity_checking or not trainer.is_global_zero or matrix.sum() == 0:
        return []
    from pathlib import Path

    from visiontrain.results.figures import save_and_log

    prefix = "" if stage == "val" else f"{stage}_"
    figures = confusion_figures(matrix, class_names, score_threshold, iou_threshold)
    return [save_and_log(trainer, f"{stage}/{name}", fig, Path(trainer.default_root_dir) / f"{prefix}{name}.png")
            for name, fig in figures.items()]
