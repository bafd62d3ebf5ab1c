"""YOLO under DDP on CPU (2 processes, gloo): channels-last weights, the EMA and the per-epoch loss terms work
across ranks; one run dir, and the synced loss terms add up to the synced epoch loss."""

import json

import pytest

from helpers import run_cli


def test_yolo_trains_under_ddp_with_synced_loss_terms(tmp_path, data_dir):
    proc = run_cli("train", [
        "experiment=det_shapes_yolo", "trainer=ddp_cpu", "logger=none", "trainer.precision=32-true",
        "trainer.max_epochs=2", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false",
        "callbacks.rich_progress_bar=null", "data.source.num_train=16", "data.source.num_val=4",
        "data.source.num_test=4", "data.source.image_size=96", "data.source.min_size=0.25", "data.img_size=64",
        "data.batch_size=2", "data.close_mosaic=1", "model.log_images=0", f"paths.data_dir={data_dir}",
    ], cwd=tmp_path, timeout=300, env={"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MEMBER: 2/2" in proc.stdout + proc.stderr  # Lightning's line from the second rank
    runs = list((tmp_path / "outputs" / "det_shapes_yolo" / "runs").iterdir())
    assert len(runs) == 1, runs  # not one per rank
    record = json.loads((runs[0] / "metrics.json").read_text())
    assert record["status"] == "finished", record
    m = record["metrics"]
    terms = m["train/loss_box"] + m["train/loss_cls"] + m["train/loss_dfl"]
    assert terms == pytest.approx(m["train/loss_epoch"], rel=1e-5)
    assert {"val/map_50", "test/map_50"} <= set(m)
