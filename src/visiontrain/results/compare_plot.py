"""`vt-compare --plot`: the metric against each swept override, and learning curves from the runs' CSV logs."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from visiontrain.results.runs import Run


def learning_curve(run: Run, metric: str) -> tuple[list[float], list[float]]:
    """(epoch, value) of ``metric`` from the run's results.csv; older runs: (step, value) from the CSV logger's
    ``<run>/csv/metrics.csv``; empty without either."""
    rows = [row for row in run.epochs() if metric in row]
    if rows:
        return [row["epoch"] for row in rows], [row[metric] for row in rows]
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
    import matplotlib.pyplot as plt

    fig = figure_runs(runs, metric, swept, labels)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _mode(runs: Sequence[Run]) -> str:
    modes = [r.optimized_mode for r in runs if r.optimized_mode]
    return max(set(modes), key=modes.count) if modes else "max"


def figure_runs(runs: Sequence[Run], metric: str, swept: Sequence[str], labels: Sequence[str] | None = None):
    """The metric against each swept override (a sweep's parameter plots), then every run's learning curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from visiontrain.compare import best_and_last

    panels = len(swept) + 1
    cols = min(panels, 4)
    rows = (panels + cols - 1) // cols
    fig, grid = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[panels:]:
        ax.axis("off")
    mode = _mode(runs)
    # each run's best value of the metric (what the tables sort by); failed runs have none worth plotting
    best = {r.path: best_and_last(r, metric, mode)[0] for r in runs if r.status != "failed"}
    scored = [r for r in runs if best.get(r.path) is not None]
    for ax, key in zip(axes, swept):
        raw = [r.overrides.get(key, "") for r in scored]
        numbers = _as_numbers(raw)
        ys = [best[r.path] for r in scored]
        if numbers is not None:
            ax.scatter(numbers, ys)
            if all(text.lstrip("+-").isdigit() for text in map(str, raw)):  # seeds, sizes, epochs: no 1.5 ticks
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            positive = all(n > 0 for n in numbers)
            if positive and numbers and max(numbers) / min(numbers) >= 100:  # learning rates and the like
                ax.set_xscale("log")
        else:  # categorical: one column per value
            values = sorted(set(raw))
            ax.scatter([values.index(v) for v in raw], ys)
            ax.set_xticks(range(len(values)), values, rotation=30, ha="right")
        ax.set_xlabel(key)
        ax.set_ylabel(f"best {metric}")
    curves = axes[panels - 1]
    for run, label in zip(runs, labels or [r.path.name for r in runs]):
        steps, values = learning_curve(run, metric)
        if steps:
            curves.plot(steps, values, marker=".", label=label)
    curves.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs or steps
    curves.set_xlabel("epoch (results.csv) or step (CSV log)")
    curves.set_ylabel(metric)
    curves.set_title("learning curves")
    if curves.lines and len(curves.lines) <= 12:
        curves.legend(fontsize=7)
    fig.tight_layout()
    return fig
