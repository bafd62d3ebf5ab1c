"""Resume with changed settings: more epochs continue on the longer run's LR curve (main: the restored cosine
schedule trained them at lr 0); an architecture change is refused with a one-line error naming the key."""

import json
import math
import os

import pytest
from helpers import run_cli

TESTS_DIR = os.path.dirname(os.path.abspath(__file__ + "/.."))
ARGS = ["logger=csv", "test=false", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
        "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "callbacks.early_stopping=null",
        "+callbacks.snapshots._target_=snapshot_callback.BackboneSnapshots"]
ENV = {"PYTHONPATH": TESTS_DIR}
pytestmark = pytest.mark.slow  # three real runs, 2-4 min on 2 busy cores; test_resume_guard.py is the fast one


def _lrs(path) -> dict[int, list[float]]:
    return {r["epoch"]: [g["lr"] for g in r["groups"]] for r in json.loads(path.read_text()) if r["when"] == "start"}


def test_more_epochs_on_resume_follow_the_longer_schedule_and_architecture_changes_are_refused(tmp_path):
    first = run_cli("train", [*ARGS, "trainer.max_epochs=2", "+callbacks.snapshots.out_dir=${paths.output_dir}/a"],
                    cwd=tmp_path, env=ENV, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    (run_dir,) = (tmp_path / "outputs" / "quickstart" / "runs").iterdir()
    base = _lrs(run_dir / "a" / "snapshots_rank0.json")[0]

    more = run_cli("train", [f"resume={run_dir}", "trainer.max_epochs=4",
                             "+callbacks.snapshots.out_dir=${paths.output_dir}/b"], cwd=tmp_path, env=ENV, timeout=300)
    assert more.returncode == 0, more.stderr[-3000:]
    resumed = _lrs(run_dir / "b" / "snapshots_rank0.json")
    assert {2, 3} <= set(resumed)  # (the epoch of last.ckpt may be replayed: saved before its scheduler step)
    for epoch in resumed:  # CosineAnnealingLR(T_max=4): what a 4-epoch run has at these epochs
        expected = [lr * 0.5 * (1 + math.cos(math.pi * epoch / 4)) for lr in base]
        assert all(got > 0 for got in resumed[epoch]), resumed
        assert all(math.isclose(g, e, rel_tol=1e-6) for g, e in zip(resumed[epoch], expected)), (resumed, expected)

    other = run_cli("train", [f"resume={run_dir}", "trainer.max_epochs=5", "model.backbone=resnet18"],
                    cwd=tmp_path, env=ENV, timeout=300)
    assert other.returncode == 1
    error = other.stderr.strip().splitlines()[-1]
    assert error.startswith("error: resume: cannot change model.backbone ('small_cnn' → 'resnet18')"), error
