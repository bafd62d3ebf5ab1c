"""A run killed with SIGKILL mid-epoch and resumed from its mid-epoch checkpoint ends with exactly the metrics of a
run that was never stopped (same seed, deterministic mode): the quickstart classifier and a small Faster R-CNN.

Each run is a real ``vt-train`` process. A test callback (stall_callback.py) holds the run still at a known step,
after that step's checkpoint was written, so the SIGKILL lands mid-epoch without any timing assumption."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
QUIET = ["trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null",
         "callbacks.early_stopping=null", "logger=csv", "trainer.deterministic=true",
         "+callbacks.stall._target_=stall_callback.StallAtStep", "+callbacks.stall.run_dir=${paths.output_dir}"]
CLASSIFIER = [*QUIET, "trainer.max_epochs=2", "trainer.limit_train_batches=6", "trainer.limit_val_batches=2",
              "trainer.limit_test_batches=2", "callbacks.mid_epoch_checkpoint.every_n_train_steps=2"]
DETECTOR = [*QUIET, "experiment=det_shapes_frcnn", "trainer.max_epochs=2", "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1", "callbacks.mid_epoch_checkpoint.every_n_train_steps=2",
            "data.source.num_train=10", "data.source.num_val=2", "data.source.num_test=2",
            "data.source.image_size=64", "data.source.min_size=0.3", "data.batch_size=2", "model.min_size=64",
            "model.max_size=64", "model.log_images=0", "model.warmup_steps=2", "model.class_metrics=false",
            "++model.detector_kwargs.rpn_pre_nms_top_n_train=50", "++model.detector_kwargs.rpn_post_nms_top_n_train=20",
            "++model.detector_kwargs.box_batch_size_per_image=16", "++model.detector_kwargs.rpn_pre_nms_top_n_test=20",
            "++model.detector_kwargs.rpn_post_nms_top_n_test=20", "++model.detector_kwargs.box_detections_per_img=10"]


def _env(**extra):
    return {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1", "PYTHONPATH": str(HERE),
            "OMP_NUM_THREADS": "1", **extra}


def _train(args, cwd, **env):
    # a session of its own: a SIGKILL to its group also kills the DDP ranks that Lightning started
    return subprocess.Popen([sys.executable, "-m", "visiontrain.train", *args], cwd=cwd, env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _finished(proc, run_dir: Path) -> dict:
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "finished", record
    return record["metrics"]


def _kill_when_stalled(proc, run_dir: Path) -> None:
    while not (run_dir / "stalled").exists():
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _killed_and_resumed_equals_uninterrupted(tmp_path, args, stall_at, resumed_from_step, ranks=1):
    data = f"paths.data_dir={tmp_path}/data"
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = _train([*args, data, f"hydra.run.dir={straight}"], tmp_path)
    reference_metrics = _finished(reference, straight)  # one at a time: each would slow the other down

    first = _train([*args, data, f"hydra.run.dir={killed}"], tmp_path, VT_STALL_AT_STEP=str(stall_at))
    _kill_when_stalled(first, killed)
    assert not (killed / "metrics.json").exists()  # SIGKILL: nothing ran after the kill
    mid = killed / "checkpoints" / "last-step.ckpt"
    state = torch.load(mid, map_location="cpu", weights_only=True)
    assert state["global_step"] == resumed_from_step
    assert state["loops"]["fit_loop"]["epoch_loop.batch_progress"]["current"]["completed"] > 0  # mid-epoch
    rng = state["visiontrain_rng"]
    assert len(rng["ranks"]) == ranks if ranks > 1 else "torch" in rng  # every rank's random streams

    resumed = _train(["resume=auto", f"hydra.run.dir={killed}"], tmp_path)
    metrics = _finished(resumed, killed)
    assert f"Resuming from {mid}" in (killed / "train.log").read_text()
    assert metrics.keys() == reference_metrics.keys()
    assert metrics == reference_metrics  # exact: same batches, augmentations, dropout and optimizer steps


@pytest.mark.slow
def test_classifier_killed_mid_epoch_resumes_to_identical_metrics(tmp_path):
    # 6 steps per epoch: checkpoint at step 2, killed at step 3, so step 3 is trained twice (lost work redone)
    _killed_and_resumed_equals_uninterrupted(tmp_path, CLASSIFIER, stall_at=3, resumed_from_step=2)


@pytest.mark.slow
def test_detector_killed_mid_epoch_resumes_to_identical_metrics(tmp_path):
    # shapes-det: 10 train images... (after the val/test carve-out) in batches of 2; checkpoint at step 2, killed at 3
    _killed_and_resumed_equals_uninterrupted(tmp_path, DETECTOR, stall_at=3, resumed_from_step=2)


@pytest.mark.slow
def test_ddp_classifier_killed_mid_epoch_resumes_to_identical_metrics(tmp_path):
    # two processes (gloo): each rank trains its shard of 12 batches (6 steps per epoch); checkpoint at step 2,
    # killed at step 3; every rank's loader position and random streams come back
    args = [*CLASSIFIER, "trainer=ddp_cpu", "trainer.limit_train_batches=6"]
    _killed_and_resumed_equals_uninterrupted(tmp_path, args, stall_at=3, resumed_from_step=2, ranks=2)
