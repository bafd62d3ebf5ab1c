"""vt-compare on a mixed outputs/ folder: groups, eval dirs apart, per-group columns, best/last, seeds, formats,
and the self-contained HTML report (rendered in headless Chromium when it is installed)."""

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from browser import dump_dom, serve
from visiontrain.compare import build_report, main
from visiontrain.results.curves import plot_results
from visiontrain.results.table import write_rows

CLS = "visiontrain.models.classification.module.ImageClassifier"
DET = "visiontrain.models.detection.module.Detector"


def fake_run(path: Path, overrides, target=CLS, task="quickstart", status="finished", metric="val/acc",
             mode="max", curve=None, job="train", seed=42):
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    config = {"task_name": task, "seed": seed, "optimized_metric": metric, "optimized_mode": mode,
              "model": {"_target_": target, "optimizer": {"lr": "${oc.env:LR,0.1}"}}}
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"job": {"name": job}}}))
    final = {metric: curve[-1]} if curve else {}
    (path / "metrics.json").write_text(json.dumps({"status": status, "metrics": final, "duration_s": 2.0}))
    if curve:
        rows = [{"epoch": i, "step": 10 * (i + 1), "train/loss": 1 / (i + 1), metric: v} for i, v in enumerate(curve)]
        write_rows(path / "results.csv", rows)
        plot_results(rows, path / "results.png")
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "outputs"
    many = [f"model.backbone=resnet_with_a_long_name_{i}" for i in range(3)]
    for i, b in enumerate(many):  # a classification sweep: lr and backbone differ
        fake_run(out / "quickstart/multiruns/s1" / str(i), [f"model.optimizer.lr=0.00{i + 1}", b, "tags=[a,b]",
                                                           f"data.augment.train.{i}.p=0.5"],
                 curve=[0.2, 0.6 + i / 10, 0.5 + i / 10])
    fake_run(out / "quickstart/runs/failed", ["model.optimizer.lr=9"], status="failed")
    fake_run(out / "quickstart/runs/pruned", ["model.optimizer.lr=8"], status="pruned", curve=[0.1])
    fake_run(out / "quickstart/runs/stopped", ["model.optimizer.lr=7"], status="interrupted", curve=[0.3])
    for seed in (1, 2, 3):  # detection: three seeds of one setting, one other setting
        fake_run(out / f"det/runs/s{seed}", [f"seed={seed}", "model.min_size=320"], target=DET, task="det",
                 metric="val/map", curve=[0.1, 0.2 + seed / 100], seed=seed)
    fake_run(out / "det/runs/big", ["seed=1", "model.min_size=640"], target=DET, task="det", metric="val/map",
             curve=[0.5, 0.4])
    fake_run(out / "eval/runs/e1", ["ckpt_path=/x/best.ckpt"], task="eval", job="eval", metric="val/acc")
    return out


def test_groups_by_kind_task_family_with_columns_that_differ_inside_each(outputs):
    report = build_report([outputs])
    titles = [g.title for g in report.groups]
    assert titles == ["train: det (detection)", "train: quickstart (classification)", "eval: eval (classification)"]
    det, cls, ev = report.groups
    assert det.swept == ["model.min_size", "seed"] and det.metric == "val/map"
    assert "model.min_size" not in cls.swept and "seed" not in cls.swept
    assert {"model.optimizer.lr", "model.backbone"} <= set(cls.swept)
    assert cls.statuses == {"finished": 3, "failed": 1, "interrupted": 1, "pruned": 1}
    top = cls.rows[0]
    assert top.label == "quickstart/multiruns/s1/2" and top.best == [pytest.approx(0.8)] and top.last == [pytest.approx(0.7)]
    assert [r.label for r in det.rows][0] == "det/runs/big" and det.rows[0].last == [0.4]  # best 0.5, last 0.4
    assert [r.path.name for r in ev.runs] == ["e1"]


def test_seeds_fold_runs_that_differ_only_in_seed(outputs):
    det = build_report([outputs / "det"], seeds=True).groups[0]
    assert det.swept == ["model.min_size"]
    folded = next(r for r in det.rows if len(r.runs) == 3)
    assert folded.label == "3 runs (seed 1, 2, 3)" and folded.overrides == {"model.min_size": "320"}
    assert sorted(folded.last) == pytest.approx([0.21, 0.22, 0.23])


def test_table_on_a_mixed_folder_shows_every_column_in_full_through_a_pipe(outputs):
    # a pipe (not a terminal): rich's default 80 columns used to squeeze 15 columns to "…" or to nothing
    code = "import sys; from visiontrain.compare import main; main(sys.argv[1:])"
    proc = subprocess.run([sys.executable, "-c", code, str(outputs), "--seeds"], capture_output=True, text=True,
                          timeout=60, check=True)
    text = proc.stdout
    for needle in ("model.backbone", "resnet_with_a_long_name_2", "data.augment.train.2.p", "best val/acc",
                   "last val/map", "0.2200 ± 0.0100 (n=3)", "3 finished, 1 failed, 1 interrupted, 1 pruned",
                   "eval: eval (classification)", "multiruns/s1/0"):
        assert needle in text, needle
    assert "…" not in text


def test_csv_json_and_markdown(outputs, capsys):
    main([str(outputs), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 11 and {"kind", "task", "family", "best", "last", "status", "model.optimizer.lr"} <= set(rows[0])
    pruned = next(r for r in rows if r["run"].endswith("pruned"))
    assert pruned["status"] == "pruned" and float(pruned["best"]) == 0.1
    main([str(outputs), "--format", "json", "--seeds"])
    data = json.loads(capsys.readouterr().out)
    folded = next(r for r in data["rows"] if r["n"] == 3)
    assert folded["best_std"] == pytest.approx(0.01) and folded["family"] == "detection"
    assert data["groups"][1]["statuses"]["pruned"] == 1
    main([str(outputs / "det"), "--format", "md"])
    md = capsys.readouterr().out
    assert md.startswith("### train: det (detection)") and "| run | best val/map | last val/map |" in md


def _html(outputs, tmp_path):
    out = tmp_path / "site" / "report.html"
    assert main([str(outputs), "--html", str(out)]) == 0
    return out


def test_html_report_is_self_contained(outputs, tmp_path):
    text = _html(outputs, tmp_path).read_text()
    assert text.count('<table class="runs">') == 3
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing to fetch: opens offline
    assert text.count('src="data:image/png;base64,') >= 2 + 8  # 2 group plots, the runs' results.png


def test_html_report_renders_in_headless_chromium(outputs, tmp_path):
    report = _html(outputs, tmp_path)
    # a same-origin page that opens the report in a frame and writes what the browser made of it
    (report.parent / "check.html").write_text("""<!doctype html><body><iframe id="f" src="report.html"></iframe>
<pre id="out">pending</pre><script>
document.getElementById('f').onload = () => {
  const d = document.getElementById('f').contentDocument;
  const imgs = [...d.images];
  document.getElementById('out').textContent = JSON.stringify({tables: d.querySelectorAll('table.runs').length,
    rows: d.querySelectorAll('table.runs tbody tr').length, images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 100).length,
    headers: [...d.querySelectorAll('h2')].map(h => h.textContent)});
};</script></body>""")
    with serve(report.parent) as url:
        dom = dump_dom(f"{url}/check.html")
    seen = json.loads(re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1))
    assert seen["tables"] == 3 and seen["rows"] == 11
    assert seen["images"] >= 10 and seen["decoded"] == seen["images"]
    assert seen["headers"][0].startswith("train: det (detection)")


def test_sweep_plots_tick_integer_overrides_and_epochs_as_integers(outputs):
    """A seed sweep's parameter plot and the learning curves (epochs 0, 1) had ticks at 1.25, 0.5, …"""
    from visiontrain.results.compare_plot import figure_runs
    from visiontrain.results.runs import load_runs

    runs = load_runs([outputs / "det" / "runs" / f"s{seed}" for seed in (1, 2, 3)])
    fig = figure_runs(runs, "val/map", ["seed"])
    fig.canvas.draw()
    seeds, curves = fig.axes[:2]
    for ax in (seeds, curves):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), (ax.get_xlabel(), ticks)
