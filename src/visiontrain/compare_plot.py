"""`vt-compare --plot`: the metric against each swept override, and learning curves from the runs' CSV logs."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from visiontrain.runs import Run


def learning_curve(run: Run, metric: str) -> tuple[list[float], list[float]]:
    """(step, value) of ``metric`` from ``<run>/csv/metrics.csv`` (logger=csv); empty without a CSV log."""
    steps: list[float] = []
    values: list[float] = []
    for path in sorted(run.path.glob("csv*/**/metrics.csv")):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get(metric) not in (None, "") and row.get("step") not in (None, ""):
                    steps.append(float(row["step"]))
                    values.append(float(row[metric]))
    return steps, values


def _as_numbers(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def plot_runs(runs: Sequence[Run], metric: str, swept: Sequence[str], out: str | Path,
              labels: Sequence[str] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(swept) + 1
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), squeeze=False)
    scored = [r for r in runs if metric in r.metrics]
    for ax, key in zip(axes[0], swept):
        raw = [r.overrides.get(key, "") for r in scored]
        numbers = _as_numbers(raw)
        if numbers is not None:
            ax.scatter(numbers, [r.metrics[metric] for r in scored])
            positive = all(n > 0 for n in numbers)
            if positive and numbers and max(numbers) / min(numbers) >= 100:  # learning rates and the like
                ax.set_xscale("log")
        else:  # categorical: one column per value
            labels = sorted(set(raw))
            ax.scatter([labels.index(v) for v in raw], [r.metrics[metric] for r in scored])
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
    curves = axes[0][-1]
    for run, label in zip(runs, labels or [r.path.name for r in runs]):
        steps, values = learning_curve(run, metric)
        if steps:
            curves.plot(steps, values, marker=".", label=label)
    curves.set_xlabel("step")
    curves.set_ylabel(metric)
    curves.set_title("learning curves (CSV logs)")
    if curves.lines and len(curves.lines) <= 12:
        curves.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
