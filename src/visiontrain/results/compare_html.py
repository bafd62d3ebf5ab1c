"""`vt-compare --html report.html`: one self-contained page (tables, curves, sweep parameter plots, each run's
figures) that opens offline: every picture is embedded as a data URI, no script or style is fetched."""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime
from pathlib import Path

from visiontrain.compare import Group, Report
from visiontrain.results.compare_format import cells, columns, group_heading

FIGURES = ("*.png", "*.jpg", "*.jpeg")
MAX_FIGURES_PER_RUN = 16
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;white-space:nowrap}
th{background:#f0f0f0;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td,tr.interrupted td{color:#a00}
tr.pruned td{color:#777}
img{max-width:100%;border:1px solid #ddd;margin:4px}
figure{display:inline-block;margin:4px;vertical-align:top}
figcaption{font-size:12px;color:#555}
details{margin:.3em 0}
"""


def data_uri(data: bytes, suffix: str) -> str:
    mime = "image/jpeg" if suffix.lower() in (".jpg", ".jpeg") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _figure_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _img(uri: str, caption: str) -> str:
    alt = html.escape(caption, quote=True)
    return f'<figure><img src="{uri}" alt="{alt}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def _table(group: Group) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns(group))
    numeric = {1, 2, len(columns(group)) - 1}
    body = []
    for row, values in zip(group.rows, cells(group)):
        status = row.runs[0].status if len(row.runs) == 1 else ""
        tds = "".join(f'<td class="num">{html.escape(v)}</td>' if i in numeric else f"<td>{html.escape(v)}</td>"
                      for i, v in enumerate(values))
        body.append(f'<tr class="{html.escape(status)}">{tds}</tr>')
    return f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _group_plots(group: Group, report: Report) -> str:
    """The sweep's parameter plots and all runs' curves of the optimized metric, one picture."""
    from visiontrain.compare import _short
    from visiontrain.results.compare_plot import figure_runs

    runs = [r for r in group.runs if r.kind == "train"]
    if not runs:
        return ""
    fig = figure_runs(runs, group.metric, group.swept, [_short(r.path, report.base) for r in runs])
    return _img(data_uri(_figure_png(fig), ".png"), f"{group.metric} against each swept override; learning curves")


def _run_figures(group: Group, report: Report) -> str:
    from visiontrain.compare import _short

    parts = []
    for run in group.runs:
        files = sorted({p for pattern in FIGURES for p in run.path.glob(pattern)})
        files.sort(key=lambda p: (p.name != "results.png", p.name))  # the curves first
        if not files:
            continue
        images = "".join(_img(data_uri(p.read_bytes(), p.suffix), p.name) for p in files[:MAX_FIGURES_PER_RUN])
        label = html.escape(f"{_short(run.path, report.base)} ({run.status}): {len(files)} figures")
        parts.append(f"<details><summary>{label}</summary>{images}</details>")
    return "".join(parts)


def render_html(report: Report) -> str:
    sections = []
    for group in report.groups:
        sections.append(f"<section><h2>{html.escape(group_heading(group))}</h2>{_table(group)}"
                        f"{_group_plots(group, report)}{_run_figures(group, report)}</section>")
    where = html.escape(str(report.base or ""))
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vt-compare: {where}</title>'
            f"<style>{STYLE}</style></head><body><h1>vt-compare</h1>"
            f"<p>{len(report.runs)} runs under <code>{where}</code>, written {stamp}.</p>"
            f"{''.join(sections)}</body></html>\n")


def write_html(report: Report, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    return out
