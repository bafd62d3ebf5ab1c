"""`vt-compare PATH…`: the runs under run dirs, multirun dirs or outputs/ side by side, best first.

    vt-compare outputs/quickstart/multiruns/2026-11-25_10-00-00_000000
    vt-compare outputs/ --metric val/loss --mode min --plot compare.png

Columns: the optimized metric, status, the overrides that differ between the runs, duration. Reads only each
run's ``metrics.json`` and ``.hydra/`` files (no torch import: answers in well under a second).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visiontrain.runs import Run, load_runs


@dataclass
class Table:
    runs: list[Run]
    metric: str
    mode: str
    swept: list[str] = field(default_factory=list)


def build_table(paths: Sequence[str | Path], metric: str | None = None, mode: str | None = None) -> Table:
    runs = load_runs(paths)
    if not runs:
        raise SystemExit(f"error: no runs (folders with metrics.json or .hydra/) under {', '.join(map(str, paths))}")
    metric = metric or _most_common([r.optimized_metric for r in runs if r.optimized_metric]) or "val/loss"
    mode = mode or _most_common([r.optimized_mode for r in runs if r.optimized_mode]) or "max"
    keys = sorted({k for r in runs for k in r.overrides})
    swept = [k for k in keys if len({r.overrides.get(k) for r in runs}) > 1]

    def order(run: Run) -> tuple[int, float]:
        value = run.metrics.get(metric)
        if value is None or not math.isfinite(value):
            return (1, 0.0)
        return (0, -value if mode == "max" else value)

    return Table(sorted(runs, key=order), metric, mode, swept)


def render(table: Table, base: Path | None = None) -> Any:
    from rich.table import Table as RichTable

    out = RichTable(title=f"{len(table.runs)} runs, sorted by {table.metric} ({table.mode})")
    for name in ("run", table.metric, "status", *table.swept, "duration"):
        out.add_column(name, justify="right" if name in (table.metric, "duration") else "left",
                       no_wrap=name == "run")
    for run in table.runs:
        value = run.metrics.get(table.metric)
        shown = "-" if value is None else f"{value:.4f}"
        status = run.status if not run.error else f"{run.status}: {run.error}"[:60]
        duration = "-" if run.duration_s is None else f"{run.duration_s:.1f}s"
        swept = (_number(run.overrides.get(k, "")) for k in table.swept)
        out.add_row(_short(run.path, base), shown, status, *swept, duration)
    return out


def common_base(runs: Sequence[Run]) -> Path | None:
    """The folder the run paths are shown relative to (the parent of a lone run)."""
    if not runs:
        return None
    base = Path(os.path.commonpath([str(r.path) for r in runs]))
    return base.parent if len(runs) == 1 else base


def _short(path: Path, base: Path | None) -> str:
    try:
        return str(path.relative_to(base)) if base else str(path)
    except ValueError:
        return str(path)


def _number(text: str) -> str:
    """Optuna's 0.004020171444171935 as 0.00402: enough to tell trials apart in a table."""
    try:
        value = float(text)
    except ValueError:
        return text
    return text if value.is_integer() and "." not in text and "e" not in text.lower() else f"{value:.4g}"


def _most_common(values: list[str]) -> str | None:
    return max(set(values), key=values.count) if values else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vt-compare", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="run dirs, multirun dirs or outputs/")
    parser.add_argument("--metric", help="metric to sort by (default: the runs' optimized_metric)")
    parser.add_argument("--mode", choices=("max", "min"), help="default: the runs' optimized_mode")
    parser.add_argument("--plot", metavar="OUT.png", help="also write metric vs each swept override + curves")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not Path(path).exists():
            raise SystemExit(f"error: {path}: no such file or directory")
    table = build_table(args.paths, args.metric, args.mode)
    from rich.console import Console

    base = common_base(table.runs)
    Console(width=max(120, Console().width)).print(render(table, base))
    if args.plot:
        from visiontrain.compare_plot import plot_runs

        labels = [_short(r.path, base) for r in table.runs]
        print(f"plot: {plot_runs(table.runs, table.metric, table.swept, args.plot, labels)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
