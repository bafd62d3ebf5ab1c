"""Classification: per-class precision and recall from the split's confusion matrix (rows true, columns
predicted), beside the confusion matrix itself."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class; NaN where a class was never predicted (precision) or never present (recall)."""
    tp = np.diag(matrix).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(matrix.sum(0) > 0, tp / matrix.sum(0), np.nan)
        recall = np.where(matrix.sum(1) > 0, tp / matrix.sum(1), np.nan)
    return precision, recall


def precision_recall_figure(matrix, names: Sequence[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = matrix.cpu().numpy() if hasattr(matrix, "cpu") else np.asarray(matrix)
    precision, recall = precision_recall(m)
    n = len(names)
    x = np.arange(n)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.45 * n + 2), 3.6))
    ax.bar(x - 0.2, np.nan_to_num(precision), 0.4, label="precision")
    ax.bar(x + 0.2, np.nan_to_num(recall), 0.4, label="recall")
    if n <= 40:
        ax.set_xticks(x, names, rotation=90 if n > 8 else 0)
    ax.set(ylim=(0, 1.05), title="precision and recall per class")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
