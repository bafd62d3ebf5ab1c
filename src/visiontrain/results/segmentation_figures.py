"""Semantic segmentation figures from the pixel confusion matrix the IoU metric already accumulates: the matrix
normalised per true class (Ultralytics' confusion_matrix_normalized.png) and a per-class IoU bar chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def iou_from_confusion(matrix: np.ndarray) -> np.ndarray:
    """Per-class IoU = TP / (TP + FP + FN); NaN for a class absent from truth and prediction (as the metric)."""
    tp = np.diag(matrix).astype(float)
    union = matrix.sum(0) + matrix.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def confusion_figure(matrix: np.ndarray, names: Sequence[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix.sum(1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    n = len(names)
    size = max(5.0, 2.5 + 0.5 * n)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if n <= 30:
        ax.set_xticks(range(n), names, rotation=90)
        ax.set_yticks(range(n), names)
        for i in range(n):
            for j in range(n):
                if norm[i, j] >= 0.005:
                    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title("pixel confusion matrix, normalised per true class", fontsize=10)
    fig.tight_layout()
    return fig


def iou_figure(iou: np.ndarray, names: Sequence[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(names) + 2), 3.6))
    values = np.nan_to_num(iou, nan=0.0)
    bars = ax.bar(range(len(names)), values, color="tab:blue")
    for bar, value in zip(bars, iou):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01,
                "n/a" if np.isnan(value) else f"{value:.2f}", ha="center", fontsize=7)
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6
                  else "center")
    ax.set(ylim=(0, 1.08), ylabel="IoU", title=f"IoU per class (mIoU {np.nanmean(iou):.3f})")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def log_segmentation_figures(trainer, jaccard, stage: str, names: Sequence[str]) -> list[Path]:
    """``jaccard``: the torchmetrics MulticlassJaccardIndex of the split, before its reset (its confusion matrix
    summed over all processes). Rank zero draws and saves; nothing during the sanity check."""
    if trainer.sanity_checking:
        return []
    with jaccard.sync_context():  # every rank takes part in the sync; only rank zero draws
        matrix = jaccard.confmat.detach().cpu().numpy().copy()
    from visiontrain.results.figures import figures_due, save_and_log

    if not trainer.is_global_zero or matrix.sum() == 0 or not figures_due(trainer, stage):
        return []
    from visiontrain.results.class_tables import SEGMENTATION_COLUMNS, log_class_table, segmentation_rows

    log_class_table(trainer, stage, SEGMENTATION_COLUMNS, lambda: segmentation_rows(matrix, names))
    prefix = "" if stage == "val" else f"{stage}_"
    run_dir = Path(trainer.default_root_dir)
    return [save_and_log(trainer, f"{stage}/{name}", fig, run_dir / f"{prefix}{name}.png")
            for name, fig in (("confusion_matrix_normalized", confusion_figure(matrix, names)),
                              ("iou_per_class", iou_figure(iou_from_confusion(matrix), names)))]
