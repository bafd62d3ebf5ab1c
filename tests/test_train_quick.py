"""The training entry point on the real config tree, shrunk: run-dir contract and precision."""

import json
from pathlib import Path

import pytest

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job


def _run(tmp_path, data_dir, *overrides):
    cfg = compose_cfg([*FAST, *overrides], tmp_path, data_dir)
    value = run_job(cfg, train)
    return cfg, value, json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_quickstart_writes_metrics_json_contract(tmp_path, data_dir):
    cfg, value, record = _run(tmp_path, data_dir)
    assert record["status"] == "finished"
    assert set(record) >= {"status", "metrics", "best_model_path", "duration_s"}
    assert {"train/loss", "val/loss", "val/acc", "val/f1", "test/acc", "test/loss"} <= set(record["metrics"])
    assert all(isinstance(v, float) for v in record["metrics"].values())
    assert record["best_model_path"].startswith(str(tmp_path / "run" / "checkpoints"))
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    assert value == pytest.approx(record["metrics"]["val/acc"])
    # the family's default, resolved: the saved config holds only its interpolation, and vt-compare reads this
    assert (record["optimized_metric"], record["optimized_mode"]) == ("val/acc", "max")
    from visiontrain.results.runs import read_run

    run = read_run(tmp_path / "run")
    assert (run.optimized_metric, run.optimized_mode) == ("val/acc", "max")


def test_bf16_mixed_precision_trains_on_cpu(tmp_path, data_dir):
    _, _, record = _run(tmp_path, data_dir, "trainer.precision=bf16-mixed")
    assert record["status"] == "finished"
    assert record["metrics"]["train/loss"] == record["metrics"]["train/loss"]  # not NaN


def test_failed_run_writes_failed_metrics_json(tmp_path, data_dir):
    cfg = compose_cfg([*FAST, "data=image_folder", f"data.source.root={tmp_path}/missing"], tmp_path, data_dir)
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert "missing" in record["error"] and "\n" not in record["error"]


def test_non_finite_loss_stops_with_step_batch_and_learning_rate(tmp_path, data_dir):
    cfg = compose_cfg([*FAST, "model.optimizer.lr=1e30", "trainer.limit_train_batches=5"], tmp_path, data_dir)
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert record["error"].startswith("training loss is nan at step") or record["error"].startswith(
        "training loss is inf at step"), record["error"]
    assert "batch" in record["error"] and "learning rate 1e+30" in record["error"]


def test_last_ckpt_holds_the_final_epoch_when_that_epoch_is_not_the_best(tmp_path, data_dir):
    """Lightning rewrites last.ckpt only when it writes a best checkpoint: here the best is the first epoch (the
    highest validation loss: an earlier epoch than the last), and last.ckpt must still be the third epoch's."""
    import torch

    _, _, record = _run(tmp_path, data_dir, "trainer.max_epochs=3", "optimized_metric=val/loss", "optimized_mode=max")
    checkpoints = tmp_path / "run" / "checkpoints"
    load = lambda path: torch.load(path, map_location="cpu", weights_only=True)
    assert load(record["best_model_path"])["epoch"] < 2
    assert load(checkpoints / "last.ckpt")["epoch"] == 2
    assert sorted(p.name for p in checkpoints.glob("*.ckpt")) == sorted(["last.ckpt",
                                                                         Path(record["best_model_path"]).name])
