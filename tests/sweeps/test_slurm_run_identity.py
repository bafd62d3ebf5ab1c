"""One run, one directory under Slurm: two commands of one job never share a run dir; only a requeued job (same
overrides) continues its own; a requeued job with other overrides is refused. Fake Slurm variables, no Slurm."""

import json
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

from visiontrain.errors import ConfigError
from visiontrain.run.slurm_run_dir import choose_slurm_run_id

SHORT = ["logger=csv", "trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false"]
# What an sbatch script's shell sees (one task, no srun step)
SBATCH = {"SLURM_JOB_ID": "777", "SLURM_NTASKS": "1", "SLURM_NTASKS_PER_NODE": "1", "SLURM_PROCID": "0",
          "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost", "SLURM_JOB_NAME": "train"}


def _overrides(run_dir: Path) -> list[str]:
    return yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())


def test_two_commands_in_one_slurm_job_get_their_own_run_dirs(tmp_path):
    runs = tmp_path / "outputs" / "quickstart" / "runs"
    for lr in ("0.001", "0.003"):  # an sbatch script training lr=0.001, then lr=0.003
        proc = run_cli("train", [*SHORT, f"model.optimizer.lr={lr}"], cwd=tmp_path, timeout=300, env=SBATCH)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == ["slurm-777", "slurm-777-1"]
    first, second = runs / "slurm-777", runs / "slurm-777-1"
    assert "model.optimizer.lr=0.001" in _overrides(first) and "model.optimizer.lr=0.003" in _overrides(second)
    assert "Resuming from" not in (second / "train.log").read_text()  # main: resumed the first run's checkpoint
    for run in (first, second):
        record = json.loads((run / "metrics.json").read_text())
        assert record["status"] == "finished" and record["best_model_path"].startswith(str(run))


def _fake_run(runs: Path, name: str, overrides: list[str]) -> None:
    (runs / name / ".hydra").mkdir(parents=True)
    (runs / name / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))


def test_requeued_job_finds_each_command_s_run_dir_again(tmp_path):
    a, b = ["model.optimizer.lr=0.001"], ["model.optimizer.lr=0.003"]
    assert choose_slurm_run_id(tmp_path, a, SBATCH) == "slurm-777"
    _fake_run(tmp_path, "slurm-777", a)
    assert choose_slurm_run_id(tmp_path, b, SBATCH) == "slurm-777-1"
    _fake_run(tmp_path, "slurm-777-1", b)
    requeued = {**SBATCH, "SLURM_RESTART_COUNT": "1"}  # the script runs again from the top
    assert choose_slurm_run_id(tmp_path, a, requeued) == "slurm-777"
    assert choose_slurm_run_id(tmp_path, b, requeued) == "slurm-777-1"
    again = {**SBATCH, "SLURM_RESTART_COUNT": "2"}
    with pytest.raises(ConfigError, match=r"requeued Slurm job 777: .*slurm-777 ran with overrides "
                                          r"\['model.optimizer.lr=0.001'\].*\['model.optimizer.lr=0.003'\]"):
        choose_slurm_run_id(tmp_path, b, again)


def test_a_look_before_the_overrides_are_known_neither_fails_nor_counts_the_command_twice(tmp_path):
    """The run-dir check (a Hydra callback) resolves the run dir before Hydra holds the overrides: that look must
    not be checked against the stored run, nor counted as the job's next command (the requeued command then went
    to slurm-777-1, a fresh run)."""
    a = ["model.optimizer.lr=0.001"]
    _fake_run(tmp_path, "slurm-777", a)
    requeued = {**SBATCH, "SLURM_RESTART_COUNT": "1"}
    ordinals: dict[str, int] = {}  # one process
    assert choose_slurm_run_id(tmp_path, None, requeued, ordinals) == "slurm-777"
    assert choose_slurm_run_id(tmp_path, a, requeued, ordinals) == "slurm-777"
    assert choose_slurm_run_id(tmp_path, ["seed=3"], requeued) == "slurm-777-1"  # the next command of the job


def test_not_requeued_never_reuses_a_run_dir_and_resume_auto_continues(tmp_path):
    _fake_run(tmp_path, "slurm-777", ["seed=1"])
    # the job's counter was lost: a run dir with a run in it is still never shared
    assert choose_slurm_run_id(tmp_path, ["seed=1"], SBATCH) == "slurm-777-1"
    (tmp_path / ".slurm-777.count").unlink()
    assert choose_slurm_run_id(tmp_path, ["seed=1", "resume=auto"], SBATCH) == "slurm-777"


def test_array_tasks_and_srun_steps_are_named_by_their_ids(tmp_path):
    array = {**SBATCH, "SLURM_JOB_ID": "901", "SLURM_ARRAY_JOB_ID": "900", "SLURM_ARRAY_TASK_ID": "3"}
    assert choose_slurm_run_id(tmp_path, [], array) == "slurm-900_3"
    step = {**SBATCH, "SLURM_STEP_ID": "2", "SLURM_STEP_NUM_TASKS": "4", "SLURM_PROCID": "3"}
    # every rank of the step, whichever resolves first, names the same dir
    assert {choose_slurm_run_id(tmp_path, [], step) for _ in range(3)} == {"slurm-777.2"}
