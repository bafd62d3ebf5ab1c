"""SIGINT (Ctrl+C) stops a run like SIGTERM does: last.ckpt, metrics.json ``interrupted`` with the metrics logged
so far, a non-zero exit (130). A run that fails after logging keeps those metrics in its metrics.json."""

import json
import signal
import time

import pytest
import torch
from test_interrupt_resume import CLASSIFIER, _train

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job


@pytest.mark.slow
def test_sigint_saves_last_ckpt_and_writes_interrupted_metrics(tmp_path):
    run_dir = tmp_path / "run"
    proc = _train([*CLASSIFIER, f"paths.data_dir={tmp_path}/data", f"hydra.run.dir={run_dir}"], tmp_path,
                  VT_STALL_AT_STEP="8")  # epoch 1, after epoch 0's validation logged val/acc
    while not (run_dir / "stalled").exists():
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, out[-3000:]
    assert out.strip().splitlines()[-1] == "error: stopped by SIGINT (last.ckpt saved; resume=auto continues)"
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "interrupted"
    assert {"val/acc", "train/loss_step"} <= set(record["metrics"])
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8


def test_failed_run_keeps_the_metrics_logged_before_the_failure(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("VT_FAIL_AT_STEP", "4")  # epoch 1 of 3-batch epochs
    cfg = compose_cfg([*FAST, "trainer.max_epochs=2", "+callbacks.stall._target_=stall_callback.StallAtStep",
                       "+callbacks.stall.run_dir=${paths.output_dir}"], tmp_path, data_dir)
    with pytest.raises(RuntimeError, match="test failure at step 4"):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed" and record["error"] == "test failure at step 4"
    assert {"val/acc", "val/loss", "train/loss_step"} <= set(record["metrics"])
    assert 0 <= record["metrics"]["val/acc"] <= 1
