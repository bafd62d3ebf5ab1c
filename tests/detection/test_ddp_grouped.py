"""The aspect-ratio grouped batch sampler under DDP: Lightning rebuilds it around its DistributedSampler, so each of
the 2 ranks groups its own half of the training images."""

import json

import pytest
from det_helpers import DET_FAST, SHAPES_FAST
from helpers import run_cli


@pytest.mark.slow  # a 2-process detection run (~40 s on 2 cores)
def test_grouped_batches_are_sharded_across_ddp_ranks(tmp_path):
    proc = run_cli("train", [
        "experiment=det_shapes_frcnn", "trainer=ddp_cpu", "data.group_by_aspect_ratio=true", "logger=none",
        "trainer.max_epochs=1", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
        "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", *SHAPES_FAST, *DET_FAST,
    ], cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "outputs" / "det_shapes_frcnn" / "runs").iterdir()
    record = json.loads((run / "metrics.json").read_text())
    assert record["status"] == "finished"
    # 8 training images, 4 per rank, batches of 2: 2 steps (unsharded, every rank would take 4)
    assert record["best_model_path"].endswith("step_2.ckpt"), record["best_model_path"]
