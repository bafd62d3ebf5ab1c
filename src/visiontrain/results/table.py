"""``results.csv``: one row per epoch; columns ``epoch``, ``step``, ``epoch_time_s``, then every epoch metric and
learning rate. Rewritten whole each epoch (columns can appear later, e.g. a metric first logged at epoch 3)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

FIXED = ("epoch", "step", "epoch_time_s")
NAME = "results.csv"


def epoch_metrics(callback_metrics: Mapping[str, object]) -> dict[str, float]:
    """Lightning's callback metrics as plain floats, without the per-step duplicates: ``train/loss_step`` is the
    last batch's value and ``train/loss_epoch`` equals ``train/loss``."""
    out: dict[str, float] = {}
    for name, value in callback_metrics.items():
        if name.endswith("_step"):
            continue
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError, RuntimeError):
            continue
        if name.endswith("_epoch"):
            out[name[: -len("_epoch")]] = number  # the epoch mean wins over a bare name of the same metric
        else:
            out.setdefault(name, number)
    return out


def learning_rates(optimizers: Iterable) -> dict[str, float]:
    """``lr/<group name>`` (the name the module gave the param group), ``lr/pg<i>`` otherwise."""
    out: dict[str, float] = {}
    for o, optimizer in enumerate(optimizers):
        for i, group in enumerate(optimizer.param_groups):
            name = group.get("name") or f"pg{i}"
            out[f"lr/{name}" if o == 0 else f"lr/opt{o}_{name}"] = float(group["lr"])
    return out


def column_order(names: Iterable[str]) -> list[str]:
    """Fixed columns, then train/…, val/…, other metrics, lr/… (alphabetical inside each)."""
    rank = {"train": 0, "val": 1, "lr": 3}
    rest = sorted({n for n in names if n not in FIXED}, key=lambda n: (rank.get(n.split("/", 1)[0], 2), n))
    return [*FIXED, *rest]


def read_rows(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append({k: float(v) for k, v in row.items() if k and v not in (None, "")})
    return rows


def write_rows(path: Path, rows: list[dict[str, float]]) -> Path:
    columns = column_order({k for row in rows for k in row})
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(k, row.get(k)) for k in columns})
    os.replace(tmp, path)  # a reader (vt-compare, a user's pandas) never sees half a file
    return path


def _cell(key: str, value: float | None) -> str:
    if value is None:
        return ""
    if key in ("epoch", "step"):
        return str(int(value))
    return repr(value) if math.isfinite(value) else str(value)
