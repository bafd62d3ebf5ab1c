"""Sweeps (`vt-train -m`): DDP jobs run exactly their own hyperparameters on every rank, and a failing job is
recorded and reported while the sweep goes on (unless on_failure=raise)."""

import json
import os

from helpers import run_cli

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SHORT = ["logger=csv", "trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false"]


def _first_error_and_tail(stderr: str) -> str:
    """Every rank writes to the same stderr: show where the first traceback starts as well as the end."""
    first = stderr.find("Traceback")
    head = stderr[max(first, 0):max(first, 0) + 3000] if first >= 0 else ""
    return f"{head}\n[...]\n{stderr[-3000:]}"


def _jobs(tmp_path):
    (sweep,) = (tmp_path / "outputs" / "quickstart" / "multiruns").iterdir()
    return sorted((p for p in sweep.iterdir() if p.is_dir()), key=lambda p: int(p.name))


def test_ddp_sweep_runs_each_job_once_with_the_same_hyperparameters_on_all_ranks(tmp_path):
    proc = run_cli("train", ["-m", "trainer=ddp_cpu", *SHORT, "model.optimizer.lr=0.001,0.004",
                             "+callbacks.snapshots._target_=snapshot_callback.BackboneSnapshots",
                             "+callbacks.snapshots.out_dir=${paths.output_dir}/snap"],
                   cwd=tmp_path, timeout=600, env={"PYTHONPATH": TESTS_DIR})
    assert proc.returncode == 0, _first_error_and_tail(proc.stderr)
    assert len(list((tmp_path / "outputs" / "quickstart" / "multiruns").iterdir())) == 1  # no second sweep
    jobs = _jobs(tmp_path)
    assert [j.name for j in jobs] == ["0", "1"]
    for job, lr in zip(jobs, (0.001, 0.004)):
        assert json.loads((job / "metrics.json").read_text())["status"] == "finished"
        for rank in (0, 1):
            records = json.loads((job / "snap" / f"snapshots_rank{rank}.json").read_text())
            head_lr = records[0]["groups"][1]["lr"]
            assert abs(head_lr - lr) < 1e-12, (job, rank, head_lr)


def test_failed_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    proc = run_cli("train", ["-m", *SHORT, "model.optimizer.lr=-1,0.001"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed, ok = (json.loads((job / "metrics.json").read_text()) for job in _jobs(tmp_path))
    assert failed["status"] == "failed" and "Invalid learning rate" in failed["error"]
    assert ok["status"] == "finished"
    assert "reported -1000000000.0" in proc.stdout + proc.stderr


def test_on_failure_raise_stops_the_sweep(tmp_path):
    proc = run_cli("train", ["-m", *SHORT, "on_failure=raise", "model.optimizer.lr=-1,0.001"], cwd=tmp_path,
                   timeout=300)
    assert proc.returncode != 0
    assert len(_jobs(tmp_path)) == 1
