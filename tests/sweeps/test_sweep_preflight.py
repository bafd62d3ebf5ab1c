"""Whole-sweep validation: a bad combination fails before any job runs (main: after the jobs before it ran), a dry
run lists jobs, run dirs and resources, Slurm resources must match the trainer, Hydra's struct errors are one line,
and sweepers get the best (or last) value of optimized_metric."""

import pytest
from helpers import run_cli
from omegaconf import OmegaConf

from visiontrain.errors import ConfigError
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.run.job import sweep_value
from visiontrain.config.sweep_check import check_sweep_argv, plan_sweep


def test_a_sweep_with_one_bad_combination_fails_before_any_job_runs(tmp_path):
    proc = run_cli("train", ["-m", "logger=none", "trainer.max_epochs=1", "model.optimizer.lr=0.001,0.003",
                             "data=digits,digitz"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("error: sweep job 1 (model.optimizer.lr=0.001 data=digitz): data=digitz: no such config "
                           "(did you mean digits?)"), line
    assert not (tmp_path / "outputs" / "quickstart" / "multiruns").exists()  # no job started


def test_validation_errors_of_any_combination_name_the_job():
    with pytest.raises(ConfigError, match=r"^sweep job 1 \(optimized_mode=maxx\): optimized_mode"):
        plan_sweep(["optimized_mode=max,maxx"], CONFIG_DIR)


def test_dry_run_lists_jobs_run_dirs_and_resources(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VT_ROOT", str(tmp_path))
    with pytest.raises(SystemExit) as stop:
        check_sweep_argv(["vt-train", "-m", "model.optimizer.lr=0.001,0.003", "seed=1,2", "--dry-run"], CONFIG_DIR)
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("4 job(s); launcher: BasicLauncher (local processes); trainer.devices=1")
    assert "job 3: model.optimizer.lr=0.003 seed=2" in out
    assert f"run dir: {tmp_path}/outputs/quickstart/multiruns/" in out and out.count("run dir:") == 4
    assert not (tmp_path / "outputs").exists()


def test_slurm_resources_must_match_the_trainer_before_submission():
    with pytest.raises(ConfigError, match=r"hydra.launcher.nodes=2 but trainer.num_nodes=1"):
        plan_sweep(["launcher=submitit_slurm", "hydra.launcher.nodes=2", "seed=1,2"], CONFIG_DIR)
    with pytest.raises(ConfigError, match=r"hydra.launcher.tasks_per_node=4 but trainer.devices=2"):
        plan_sweep(["launcher=submitit_slurm", "trainer=ddp_cpu", "hydra.launcher.tasks_per_node=4"], CONFIG_DIR)
    jobs, resources = plan_sweep(["launcher=submitit_slurm", "+trainer.num_nodes=2", "seed=1,2"], CONFIG_DIR)
    assert len(jobs) == 2 and "nodes=2" in resources and "trainer.num_nodes=2" in resources
    # local processes: Lightning starts the DDP ranks itself, one task per job is right
    assert "LocalLauncher" in plan_sweep(["launcher=submitit_local", "trainer=ddp_cpu", "seed=1,2"], CONFIG_DIR)[1]


def test_not_in_struct_is_one_line_with_did_you_mean(tmp_path):
    proc = run_cli("train", ["model.optimizr.lr=0.1"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: model.optimizr: unknown key (did you mean model.optimizer?); a new key needs a leading +"]


def test_sweepers_get_the_best_value_unless_last_is_asked():
    metrics = {"val/acc": 0.5, "best/val/acc": 0.9}
    cfg = OmegaConf.create({"optimized_metric": "val/acc", "sweep_value": "best"})
    assert sweep_value(cfg, metrics) == 0.9
    cfg.sweep_value = "last"
    assert sweep_value(cfg, metrics) == 0.5
