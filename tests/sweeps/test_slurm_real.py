"""A real one-node Slurm (scripts/slurm_local.sh: apt-get + root): a 2-job sweep through the submitit Slurm launcher,
then `scontrol requeue` of a running job, which must resume from its checkpoint in the same run dir.
Opt-in: VT_SLURM_TESTS=1 pytest -m slow tests/sweeps/test_slurm_real.py (about 3 minutes after the install)."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "slurm_local.sh"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("VT_SLURM_TESTS") != "1", reason="needs root + apt: set VT_SLURM_TESTS=1"),
]
LAUNCH = ["launcher=submitit_slurm", "hydra.launcher.mem_gb=null", "hydra.launcher.cpus_per_task=1", "logger=csv",
          "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null", "trainer.num_sanity_val_steps=0",
          "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]
ENV = {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1"}


@pytest.fixture(scope="module")
def slurm():
    started = shutil.which("sinfo") is None or subprocess.run(["sinfo", "-h"], check=False, capture_output=True).returncode != 0
    if started:
        subprocess.run([str(SCRIPT), "start"], check=True, capture_output=True, timeout=600)
    yield
    if started:
        subprocess.run([str(SCRIPT), "stop"], check=False, capture_output=True, timeout=60)


def _vt_train(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "visiontrain.train", "-m", *LAUNCH, *args], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = predicate()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_job_sweep_through_slurm(slurm, tmp_path):
    proc = _vt_train(["trainer.max_epochs=1", "trainer.limit_train_batches=2", "model.optimizer.lr=0.001,0.003"],
                     tmp_path)
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out[-3000:]
    (sweep,) = (tmp_path / "outputs" / "quickstart" / "multiruns").iterdir()
    for job in ("0", "1"):
        assert json.loads((sweep / job / "metrics.json").read_text())["status"] == "finished"
    assert "#SBATCH --signal=USR1@90" in next(sweep.glob(".submitit/*/*_submission.sh")).read_text()


def test_requeued_job_resumes_in_its_run_dir(slurm, tmp_path):
    proc = _vt_train(["trainer.max_epochs=4", "trainer.limit_train_batches=20", "callbacks.early_stopping=null",
                      "model.optimizer.lr=0.001"], tmp_path)
    runs = tmp_path / "outputs" / "quickstart" / "multiruns"
    last = _wait_for(lambda: next(runs.glob("*/0/checkpoints/last.ckpt"), None), 300, "the first last.ckpt")
    job_dir = last.parent.parent
    job_id = next(job_dir.parent.glob(".submitit/*/*_submitted.pkl")).parent.name  # <job> or <array job>_<task>
    subprocess.run(["scontrol", "requeue", job_id], check=True)
    out, _ = proc.communicate(timeout=500)
    assert proc.returncode == 0, out[-3000:]
    record = json.loads((job_dir / "metrics.json").read_text())
    assert record["status"] == "finished", record
    log = (job_dir / "train.log").read_text()
    assert "Interrupted: saved" in log  # the SIGTERM of the requeue checkpointed mid-epoch
    assert "Resuming from" in log and "Restoring states from the checkpoint path" in log, log[-3000:]
    assert [p.name for p in runs.iterdir()] == [job_dir.parent.name]  # the same sweep dir, the same job dir
