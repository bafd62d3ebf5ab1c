"""vt-compare's outputs: a terminal table per group, or one flat CSV / JSON / Markdown document."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from visiontrain.compare import Group, Report, summary


def _number(text: str) -> str:
    """Optuna's 0.004020171444171935 as 0.00402: enough to tell trials apart in a table."""
    try:
        value = float(text)
    except ValueError:
        return text
    return text if value.is_integer() and "." not in text and "e" not in text.lower() else f"{value:.4g}"


def columns(group: Group) -> list[str]:
    return ["run", f"best {group.metric}", f"last {group.metric}", "status", *group.swept, "duration"]


def cells(group: Group) -> list[list[str]]:
    out = []
    for row in group.rows:
        duration = "-" if row.duration_s is None else f"{row.duration_s:.1f}s"
        out.append([row.label, summary(row.best), summary(row.last), row.status,
                    *(_number(row.overrides.get(k, "")) for k in group.swept), duration])
    return out


def group_heading(group: Group) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in group.statuses.items())
    return f"{group.title}: {len(group.runs)} runs ({counts}), sorted by {group.metric} ({group.mode})"


def records(report: Report) -> list[dict[str, Any]]:
    """One flat record per row, for CSV and JSON."""
    out = []
    for group in report.groups:
        for row in group.rows:
            out.append({"kind": group.kind, "task": group.task, "family": group.family, "run": row.label,
                        "metric": group.metric, "mode": group.mode,
                        "best": _mean(row.best), "best_std": _std(row.best),
                        "last": _mean(row.last), "last_std": _std(row.last), "n": len(row.best),
                        "status": row.status, "duration_s": row.duration_s,
                        "statuses": dict(_counts(row)),
                        "overrides": dict(row.overrides), "paths": [str(r.path) for r in row.runs]})
    return out


def _counts(row) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in row.runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    return counts


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _std(values: list[float]) -> float | None:
    import statistics

    return statistics.stdev(values) if len(values) > 1 else None


def to_csv(report: Report) -> str:
    keys = sorted({k for g in report.groups for k in g.swept})
    fields = ["kind", "task", "family", "run", "metric", "mode", "best", "best_std", "last", "last_std", "n",
              "status", "duration_s", *keys]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for record in records(report):
        writer.writerow({**record, **record["overrides"]})
    return buffer.getvalue()


def to_json(report: Report) -> str:
    groups = [{"kind": g.kind, "task": g.task, "family": g.family, "metric": g.metric, "mode": g.mode,
               "statuses": g.statuses, "swept": g.swept} for g in report.groups]
    return json.dumps({"groups": groups, "rows": records(report)}, indent=2)


def to_markdown(report: Report) -> str:
    parts = []
    for group in report.groups:
        head = columns(group)
        lines = [f"### {group_heading(group)}", "", "| " + " | ".join(head) + " |",
                 "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells(group)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def rich_tables(report: Report) -> list[Any]:
    from rich.markup import escape
    from rich.table import Table

    tables = []
    for group in report.groups:
        table = Table(title=escape(group_heading(group)), title_justify="left")
        for name in columns(group):
            numeric = name.startswith(("best ", "last ")) or name == "duration"
            # no_wrap + a width-sized console below: a column is never squeezed to "…" (or to nothing)
            table.add_column(escape(name), justify="right" if numeric else "left", no_wrap=True)
        for row in cells(group):
            table.add_row(*(escape(c) for c in row))  # "tags=[a,b]" is a value, not rich markup
        tables.append(table)
    return tables


def print_report(report: Report, fmt: str = "table") -> None:
    if fmt == "csv":
        sys.stdout.write(to_csv(report))
    elif fmt == "json":
        sys.stdout.write(to_json(report) + "\n")
    elif fmt == "md":
        sys.stdout.write(to_markdown(report))
    else:
        from rich.console import Console

        tables = rich_tables(report)
        # as wide as the widest table needs: a pipe or a narrow terminal wraps lines instead of hiding columns
        needed = max(sum(max(len(c) for c in [n, *col]) + 3 for n, col in
                         zip(columns(g), zip(*cells(g)) if g.rows else [[] for _ in columns(g)]))
                     for g in report.groups) + 4
        console = Console(width=max(needed, Console().width))
        for table in tables:
            console.print(table)
