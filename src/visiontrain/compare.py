"""`vt-compare PATH…`: the runs under run dirs, multirun dirs or outputs/ side by side, best first.

    vt-compare outputs/
    vt-compare outputs/quickstart/multiruns/2026-11-25_10-00-00_000000 --seeds
    vt-compare outputs/ --format md > runs.md
    vt-compare outputs/ --html report.html      # one self-contained page: tables, curves, figures

Runs are grouped by kind (train; eval, predict and export dirs apart), task and model family. In each group the
columns are the optimized metric's best and last value (from results.csv; metrics.json otherwise), the status, the
overrides that differ *inside that group*, and the duration. ``--seeds`` folds runs that differ only in ``seed``
into one row: mean ± std over n. Reads only run-dir files (no torch import: answers in well under a second).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from visiontrain.results.runs import Run, load_runs

KIND_ORDER = ("train", "eval", "predict", "export")
STATUS_ORDER = ("finished", "running", "failed", "interrupted", "pruned")


def count_statuses(runs: Sequence[Run]) -> dict[str, int]:
    """``{"finished": 3, "failed": 1, …}``: most first, ties in a fixed order."""
    counts = Counter(r.status for r in runs)
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], rank.get(kv[0], 99), kv[0])))
FORMATS = ("table", "csv", "json", "md")


@dataclass
class Row:
    """One line of a table: a run, or (``--seeds``) the runs that differ only in their seed."""
    label: str
    runs: list[Run]
    overrides: dict[str, str]
    best: list[float] = field(default_factory=list)   # one value per run that has one
    last: list[float] = field(default_factory=list)

    @property
    def status(self) -> str:
        if len(self.runs) == 1:
            run = self.runs[0]
            return f"{run.status}: {run.error}"[:60] if run.error else run.status
        return ", ".join(f"{n} {s}" for s, n in count_statuses(self.runs).items())

    @property
    def duration_s(self) -> float | None:
        values = [r.duration_s for r in self.runs if r.duration_s is not None]
        return statistics.fmean(values) if values else None


@dataclass
class Group:
    kind: str
    task: str
    family: str
    runs: list[Run]
    metric: str
    mode: str
    swept: list[str]
    rows: list[Row]

    @property
    def title(self) -> str:
        return f"{self.kind}: {self.task} ({self.family})"

    @property
    def statuses(self) -> dict[str, int]:
        return count_statuses(self.runs)


@dataclass
class Report:
    groups: list[Group]
    base: Path | None

    @property
    def runs(self) -> list[Run]:
        return [r for g in self.groups for r in g.runs]


def best_and_last(run: Run, metric: str, mode: str) -> tuple[float | None, float | None]:
    """Over the epochs of results.csv; a run without it (or without that column) gives metrics.json's value."""
    values = [v for v in run.values(metric) if math.isfinite(v)]
    if values:
        return (max(values) if mode == "max" else min(values)), values[-1]
    value = run.metrics.get(metric)
    value = value if value is not None and math.isfinite(value) else None
    return value, value


def build_report(paths: Sequence[str | Path], metric: str | None = None, mode: str | None = None,
                 seeds: bool = False) -> Report:
    runs = load_runs(paths)
    if not runs:
        raise SystemExit(f"error: no runs (folders with metrics.json or .hydra/) under {', '.join(map(str, paths))}")
    base = common_base(runs)
    buckets: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        buckets.setdefault((run.kind, run.task, run.family), []).append(run)
    order = sorted(buckets, key=lambda k: (KIND_ORDER.index(k[0]) if k[0] in KIND_ORDER else 9, k[1], k[2]))
    return Report([_group(k, buckets[k], metric, mode, seeds, base) for k in order], base)


def _group(key: tuple[str, str, str], runs: list[Run], metric: str | None, mode: str | None, seeds: bool,
           base: Path | None) -> Group:
    metric = metric or _most_common([r.optimized_metric for r in runs if r.optimized_metric]) or "val/loss"
    mode = mode or _most_common([r.optimized_mode for r in runs if r.optimized_mode]) or "max"
    keys = sorted({k for r in runs for k in r.overrides})
    swept = [k for k in keys if len({r.overrides.get(k) for r in runs}) > 1]
    if seeds:
        swept = [k for k in swept if k != "seed"]
        folded: dict[tuple, list[Run]] = {}
        for run in runs:
            folded.setdefault(tuple(run.overrides.get(k) for k in swept), []).append(run)
        rows = [Row(_seed_label(members, base), members, {k: v for k, v in zip(swept, values) if v is not None})
                for values, members in folded.items()]
    else:
        rows = [Row(_short(r.path, base), [r], {k: r.overrides[k] for k in swept if k in r.overrides})
                for r in runs]
    for row in rows:
        for run in row.runs:
            best, last = best_and_last(run, metric, mode)
            if best is not None and run.status not in ("failed",):
                row.best.append(best)
            if last is not None and run.status not in ("failed",):
                row.last.append(last)

    def order(row: Row) -> tuple[int, float]:
        if not row.best:
            return (1, 0.0)
        value = statistics.fmean(row.best)
        return (0, -value if mode == "max" else value)

    rows.sort(key=order)
    return Group(*key, [r for row in rows for r in row.runs], metric, mode, swept, rows)


def _seed_label(runs: list[Run], base: Path | None) -> str:
    if len(runs) == 1:
        return _short(runs[0].path, base)
    seeds = sorted({r.seed or "?" for r in runs})
    return f"{len(runs)} runs (seed {', '.join(seeds)})"


def summary(values: list[float]) -> str:
    """``0.9123`` for one value, ``0.9123 ± 0.0101 (n=3)`` for several (sample standard deviation)."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f} (n={len(values)})"


def common_base(runs: Sequence[Run]) -> Path | None:
    """The folder the run paths are shown relative to (the parent of a lone run)."""
    import os

    if not runs:
        return None
    base = Path(os.path.commonpath([str(r.path) for r in runs]))
    return base.parent if len(runs) == 1 else base


def _short(path: Path, base: Path | None) -> str:
    try:
        return str(path.relative_to(base)) if base else str(path)
    except ValueError:
        return str(path)


def _most_common(values: list[str]) -> str | None:
    return max(sorted(set(values)), key=values.count) if values else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vt-compare", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="run dirs, multirun dirs or outputs/")
    parser.add_argument("--metric", help="metric to sort by (default: each group's optimized_metric)")
    parser.add_argument("--mode", choices=("max", "min"), help="default: the runs' optimized_mode")
    parser.add_argument("--seeds", action="store_true", help="one row for runs that differ only in seed: mean ± std")
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv, json or md")
    parser.add_argument("--plot", metavar="OUT.png", help="also write metric vs each swept override + curves")
    parser.add_argument("--html", metavar="REPORT.html", help="also write a self-contained HTML report")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not Path(path).exists():
            raise SystemExit(f"error: {path}: no such file or directory")
    report = build_report(args.paths, args.metric, args.mode, args.seeds)
    from visiontrain.results.compare_format import print_report

    print_report(report, args.format)
    notes = sys.stdout if args.format == "table" else sys.stderr  # keep csv/json/md output parseable
    if args.plot:
        from visiontrain.results.compare_plot import plot_runs

        train = next((g for g in report.groups if g.kind == "train"), report.groups[0])
        labels = [_short(r.path, report.base) for r in train.runs]
        print(f"plot: {plot_runs(train.runs, train.metric, train.swept, args.plot, labels)}", file=notes)
    if args.html:
        from visiontrain.results.compare_html import write_html

        print(f"html: {write_html(report, args.html)}", file=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
