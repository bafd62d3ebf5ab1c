"""DDP on CPU (2 processes, gloo): one run dir, warm-up correct on both ranks, metrics synced across ranks."""

import json
import os

import pytest

from helpers import compose_cfg, run_cli
from visiontrain.eval import evaluate
from visiontrain.run.job import run_job

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ddp_warmup_one_run_dir_ranks_in_sync_and_synced_metrics(tmp_path):
    snap = tmp_path / "snap"
    proc = run_cli("train", [
        "trainer=ddp_cpu", "logger=csv", "trainer.max_epochs=2", "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false",
        "callbacks.rich_progress_bar=null", "model.transfer.mode=warmup", "model.transfer.warmup_epochs=1",
        "+callbacks.snapshots._target_=snapshot_callback.BackboneSnapshots", f"+callbacks.snapshots.out_dir={snap}",
    ], cwd=tmp_path, timeout=300, env={"PYTHONPATH": TESTS_DIR})
    assert proc.returncode == 0, proc.stderr[-3000:]

    runs = list((tmp_path / "outputs" / "quickstart" / "runs").iterdir())
    assert len(runs) == 1, runs  # not one per rank
    record = json.loads((runs[0] / "metrics.json").read_text())
    assert record["status"] == "finished"

    rank0 = json.loads((snap / "snapshots_rank0.json").read_text())
    rank1 = json.loads((snap / "snapshots_rank1.json").read_text())
    assert [(r["backbone"], r["head"]) for r in rank0] == [(r["backbone"], r["head"]) for r in rank1]
    e0_start, e0_end, _, e1_end = rank0
    assert e0_start["backbone"] == e0_end["backbone"] != e1_end["backbone"]

    # the test metric of the 2-process run equals a single-process evaluation of the same checkpoint
    cfg = compose_cfg([f"ckpt_path={record['best_model_path']}", "logger=none"], tmp_path / "eval",
                      config_name="eval")
    run_job(cfg, evaluate)
    single = json.loads((tmp_path / "eval" / "run" / "metrics.json").read_text())
    assert single["metrics"]["test/acc"] == pytest.approx(record["metrics"]["test/acc"], abs=1e-6)
    assert single["metrics"]["test/loss"] == pytest.approx(record["metrics"]["test/loss"], rel=1e-4)
