"""results.csv / results.png in the run directory, whatever the logger (logger=none here)."""

import csv
import json

import pytest

from helpers import FAST, compose_cfg
from visiontrain.results.curves import panels
from visiontrain.results.table import epoch_metrics, read_rows, write_rows
from visiontrain.train import train
from visiontrain.run.job import run_job


def test_quickstart_without_logger_writes_results_csv_and_png(tmp_path, data_dir):
    cfg = compose_cfg([*FAST, "trainer.max_epochs=2"], tmp_path, data_dir)
    run_job(cfg, train)
    run = tmp_path / "run"
    with (run / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert {"step", "epoch_time_s", "train/loss", "train/acc", "val/loss", "val/acc", "val/f1",
            "lr/backbone", "lr/head"} <= set(rows[0])
    assert not any(k.endswith(("_step", "_epoch")) for k in rows[0])
    assert float(rows[1]["epoch_time_s"]) > 0 and int(rows[1]["step"]) == 6
    # the classifier logs train/acc in its own on_train_epoch_end, after callbacks' hooks: the row has this
    # epoch's value, not the one before
    final = json.loads((run / "metrics.json").read_text())["metrics"]
    assert float(rows[1]["train/acc"]) == pytest.approx(final["train/acc"])
    assert float(rows[1]["val/acc"]) == pytest.approx(final["val/acc"])
    assert (run / "results.png").stat().st_size > 10_000
    # logger=none: the figures are still saved where people look for them
    assert (run / "test_confusion_matrix.png").is_file() and (run / "test_precision_recall.png").is_file()


def test_epoch_metrics_drop_step_duplicates_and_keep_epoch_means():
    got = epoch_metrics({"train/loss_step": 3.0, "train/loss": 2.5, "train/loss_epoch": 2.0, "val/acc": 0.5,
                         "bad": "text"})
    assert got == {"train/loss": 2.0, "val/acc": 0.5}


def test_rows_keep_columns_that_appear_late_and_panels_group_train_with_val(tmp_path):
    path = write_rows(tmp_path / "results.csv", [{"epoch": 0, "step": 5, "train/loss": 1.0},
                                                 {"epoch": 1, "step": 10, "train/loss": 0.5, "val/map": 0.3}])
    assert path.read_text().splitlines()[0] == "epoch,step,epoch_time_s,train/loss,val/map"
    assert read_rows(path)[1] == {"epoch": 1.0, "step": 10.0, "train/loss": 0.5, "val/map": 0.3}
    groups = panels(["epoch", "train/loss", "val/loss", "val/map", "val/ap/circle", "val/ap/square", "lr/pg0"])
    assert groups == {"loss": ["train/loss", "val/loss"], "ap": ["val/ap/circle", "val/ap/square"],
                      "map": ["val/map"], "lr": ["lr/pg0"]}
