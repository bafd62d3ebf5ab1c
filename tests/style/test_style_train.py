"""`vt-train experiment=style_transfer` on the real config tree, shrunk to a few tiny steps."""

import json

import pytest
from PIL import Image

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job

TINY = ("experiment=style_transfer", *FAST, "data.image_size=32", "data.steps_per_epoch=2", "trainer.max_epochs=1",
        "model.lbfgs_max_iter=2", "model.snapshot_every=1")


def test_tiny_run_writes_the_four_metrics_the_final_png_and_a_small_checkpoint(tmp_path, data_dir):
    cfg = compose_cfg(TINY, tmp_path, data_dir)
    value = run_job(cfg, train)
    run = tmp_path / "run"
    record = json.loads((run / "metrics.json").read_text())
    assert record["status"] == "finished"
    metrics = record["metrics"]
    assert {"style/loss", "content/loss", "tv/loss", "total/loss"} <= set(metrics)
    assert all(isinstance(metrics[k], float) for k in ("style/loss", "content/loss", "total/loss"))
    assert metrics["total/loss"] == pytest.approx(metrics["style/loss"] + metrics["content/loss"] + metrics["tv/loss"])
    assert value == pytest.approx(metrics["total/loss"])
    final = run / "final_astronaut__painting.png"
    assert Image.open(final).size == (32, 32)
    assert len(list((run / "snapshots").glob("*.png"))) == 2
    # the checkpoint holds the image and the optimiser, not the 50 MB of frozen VGG weights
    assert (run / "checkpoints" / "last.ckpt").stat().st_size < 2_000_000


def test_bad_layer_name_fails_the_run_with_one_line(tmp_path, data_dir):
    cfg = compose_cfg([*TINY, "+model.style_layers.conv9_1=1.0"], tmp_path, data_dir)
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert record["error"].startswith("model.style_layers: vgg19 has no layer 'conv9_1'; valid names: conv1_1")


def test_wrong_choice_is_caught_before_anything_runs(tmp_path, data_dir):
    cfg = compose_cfg([*TINY, "model.preserve_color=colour"], tmp_path, data_dir)
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    error = json.loads((tmp_path / "run" / "metrics.json").read_text())["error"]
    assert error.startswith("model.preserve_color: 'colour' is not a valid choice; valid choices: 'none'")


def test_bf16_mixed_precision_with_lbfgs(tmp_path, data_dir):
    cfg = compose_cfg([*TINY, "trainer.precision=bf16-mixed", "model.snapshot_every=0"], tmp_path, data_dir)
    run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "finished"
    assert 0 < record["metrics"]["total/loss"] < float("inf")
