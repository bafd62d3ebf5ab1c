"""``results.png``: one panel per quantity (loss, acc, map, …) with its train and val curves, Ultralytics-style."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SKIP = ("epoch", "step", "epoch_time_s")
MAX_PANELS = 16


def panels(columns: Sequence[str]) -> dict[str, list[str]]:
    """Columns grouped by what they measure: ``train/loss`` and ``val/loss`` share "loss"; ``val/ap/circle`` and
    ``val/ap/square`` share "ap"; the learning rates share "lr". Losses first, learning rates last."""
    groups: dict[str, list[str]] = {}
    for name in columns:
        if name in SKIP:
            continue
        stage, _, rest = name.partition("/")
        key = "lr" if stage == "lr" else (rest.split("/", 1)[0] if rest else stage)
        groups.setdefault(key, []).append(name)
    order = sorted(groups, key=lambda k: (0 if "loss" in k else 2 if k == "lr" else 1, k))
    return {k: groups[k] for k in order[:MAX_PANELS]}


def plot_results(rows: Sequence[dict[str, float]], out: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(dict.fromkeys(k for row in rows for k in row))
    groups = panels(columns)
    n = max(1, len(groups))
    cols = min(n, 4)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.8 * nrows), squeeze=False)
    from matplotlib.ticker import MaxNLocator

    epochs = [row.get("epoch", i) for i, row in enumerate(rows)]
    colours = {"train": "tab:blue", "val": "tab:orange"}  # the same colour for a stage in every panel
    for ax, (key, names) in zip(axes.flat, groups.items()):
        for name in sorted(names):
            points = [(e, row[name]) for e, row in zip(epochs, rows) if name in row]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="." if len(points) < 30 else None, label=name,
                        color=colours.get(name.split("/", 1)[0]) if len(names) <= 2 else None)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if key == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        if len(names) <= 8:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    # fixed margins in inches: tight_layout would draw the whole figure once more to measure its text, which
    # doubled the cost of a drawing that is redone during training
    width, height = fig.get_size_inches()
    top = 0.35 + (0.3 if title else 0.0)
    fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, bottom=0.45 / height, top=1 - top / height,
                        wspace=0.4, hspace=0.6)
    out = Path(out)
    tmp = out.with_name(out.stem + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(out)  # a viewer refreshing the file never shows half a picture
    return out
