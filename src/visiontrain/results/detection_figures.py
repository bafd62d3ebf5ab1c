"""Detection PR and F1-vs-confidence curves (Ultralytics' BoxPR_curve.png / BoxF1_curve.png) from torchmetrics'
``MeanAveragePrecision(extended_summary=True)``: COCO's precision at 101 recall points, IoU 0.5, all areas, 100
detections per image, per class and averaged over classes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

RECALL = np.linspace(0.0, 1.0, 101)  # COCOeval's recall thresholds


def curves(result: dict, class_names: Sequence[str], prefix: str = "") -> dict[str, tuple[np.ndarray, ...]] | None:
    """class name → (precision[101], scores[101]) at IoU 0.5; None without an extended summary. Classes without
    ground truth (precision -1 everywhere) are left out."""
    precision, scores = result.get(f"{prefix}precision"), result.get(f"{prefix}scores")
    if precision is None or scores is None or not hasattr(precision, "ndim") or precision.ndim != 5:
        return None
    classes = result.get(f"{prefix}classes", result.get("classes"))
    labels = [int(c) for c in np.atleast_1d(classes.cpu().numpy())] if classes is not None else []
    p = precision[0, :, :, 0, -1].cpu().numpy()  # IoU 0.5, R x K
    s = scores[0, :, :, 0, -1].cpu().numpy()
    out = {}
    for k in range(p.shape[1]):
        if (p[:, k] < 0).all():
            continue
        label = labels[k] if k < len(labels) else k
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        out[name] = (np.clip(p[:, k], 0, 1), np.clip(s[:, k], 0, 1))
    return out


def _axes(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    return fig, ax


def pr_figure(per_class: dict[str, tuple[np.ndarray, ...]]):
    fig, ax = _axes("Precision-recall (IoU 0.5)", "recall", "precision")
    for name, (p, _) in per_class.items():
        ax.plot(RECALL, p, lw=1, label=f"{name} AP50 {p.mean():.3f}")
    mean = np.mean([p for p, _ in per_class.values()], axis=0)
    ax.plot(RECALL, mean, lw=3, color="tab:blue", label=f"all classes mAP50 {mean.mean():.3f}")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def f1_points(p: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F1 at each recall point, against the score threshold that reaches it (highest confidence first)."""
    f1 = np.where(p + RECALL > 0, 2 * p * RECALL / np.maximum(p + RECALL, 1e-9), 0.0)
    reached = s > 0  # recall points the detections never reach have score 0
    order = np.argsort(-s[reached], kind="stable")
    return s[reached][order], f1[reached][order]


def f1_figure(per_class: dict[str, tuple[np.ndarray, ...]]):
    fig, ax = _axes("F1 against confidence (IoU 0.5)", "confidence", "F1")
    grid = np.linspace(0, 1, 101)
    curves_on_grid = []
    for name, (p, s) in per_class.items():
        x, y = f1_points(p, s)
        if len(x):
            ax.plot(x, y, lw=1, label=name)
            # the best F1 reachable at each threshold or above it: a step function of the threshold
            curves_on_grid.append([y[x >= t].max() if (x >= t).any() else 0.0 for t in grid])
    if curves_on_grid:
        mean = np.mean(curves_on_grid, axis=0)
        best = len(mean) - 1 - int(np.argmax(mean[::-1]))  # the highest threshold with the best F1
        ax.plot(grid, mean, lw=3, color="tab:blue", label=f"all classes {mean[best]:.2f} at {grid[best]:.2f}")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


FILES = {"BoxPR_curve": pr_figure, "BoxF1_curve": f1_figure}


def log_detection_curves(trainer, result: dict, stage: str, class_names: Sequence[str]) -> list[Path]:
    """Draw both curves, send them to the image loggers and save them in the run dir (val: overwritten each epoch
    as BoxPR_curve.png; test: test_BoxPR_curve.png). Rank zero only; nothing during the sanity check."""
    if trainer.sanity_checking or not trainer.is_global_zero:
        return []
    per_class = curves(result, class_names, "bbox_" if "bbox_precision" in result else "")
    if not per_class:
        return []
    from visiontrain.results.figures import save_and_log

    run_dir = Path(trainer.default_root_dir)
    prefix = "" if stage == "val" else f"{stage}_"
    return [save_and_log(trainer, f"{stage}/{name}", draw(per_class), run_dir / f"{prefix}{name}.png")
            for name, draw in FILES.items()]
