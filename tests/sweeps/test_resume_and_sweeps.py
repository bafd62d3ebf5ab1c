"""End to end (slow, ~1-2 min each on 2 busy cores): SIGTERM checkpoints and resume=<run dir> continues the same run
and W&B run; a Slurm-style requeue signal (SLURM_* variables, a stand-in scontrol) saves, requeues and the restart
resumes on its own; an Optuna study continues from SQLite; a W&B agent's command line runs through vt-train."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QUIET = ["trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null",
         "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]
LONG = [*QUIET, "trainer.max_epochs=30", "trainer.limit_train_batches=15", "callbacks.early_stopping=null"]


def _env(**extra):
    return {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1", **extra}


def _start(args, cwd, env):
    return subprocess.Popen([sys.executable, "-m", "visiontrain.train", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_file(pattern_root: Path, pattern: str, proc, timeout=300) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = next(pattern_root.glob(pattern), None)
        if found:
            return found
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"no {pattern} after {timeout} s")


def _step(ckpt: Path) -> int:
    import torch

    return torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"]


def _wandb_ids(run_dir: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[-1] for p in (run_dir / "wandb").glob("offline-run-*"))


def test_sigterm_checkpoints_and_resume_continues_the_same_run(tmp_path):
    proc = _start(["logger=wandb", *LONG], tmp_path, _env())
    first = _wait_for_file(tmp_path, "outputs/quickstart/runs/*/checkpoints/last.ckpt", proc)
    run_dir = first.parent.parent
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, out[-3000:]
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "interrupted"
    stopped_at = _step(run_dir / "checkpoints" / "last.ckpt")
    assert stopped_at > 0

    epochs = stopped_at // 15 + 2  # 15 steps per epoch (LONG): one more epoch than the run had reached
    resumed = subprocess.run([sys.executable, "-m", "visiontrain.train", f"resume={run_dir}",
                              f"trainer.max_epochs={epochs}"], cwd=tmp_path, env=_env(), check=False,
                             capture_output=True,
                             text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "finished"
    log = (run_dir / "train.log").read_text()
    assert f"Resuming from {run_dir}/checkpoints/last.ckpt" in log
    assert len(list((tmp_path / "outputs" / "quickstart" / "runs").iterdir())) == 1  # no new run dir
    assert _step(run_dir / "checkpoints" / "last.ckpt") > stopped_at
    ids = _wandb_ids(run_dir)
    assert len(ids) == 2 and len(set(ids)) == 1 and ids[0] == (run_dir / "wandb_run_id").read_text().strip()
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())
    assert "logger=wandb" in overrides and f"trainer.max_epochs={epochs}" in overrides  # the stored ones, then the new one


def test_slurm_requeue_signal_saves_requeues_and_the_restart_resumes(tmp_path):
    bin_dir = tmp_path / "bin"  # a stand-in scontrol that records what Lightning asks of it
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/scontrol.txt\n")
    (bin_dir / "scontrol").chmod(0o755)
    slurm = {"SLURM_JOB_ID": "4242", "SLURM_NTASKS": "1", "SLURM_NTASKS_PER_NODE": "1", "SLURM_PROCID": "0",
             "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost", "SLURM_JOB_NAME": "train",
             "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    proc = _start(["logger=csv", *LONG], tmp_path, _env(**slurm))
    run_dir = tmp_path / "outputs" / "quickstart" / "runs" / "slurm-4242"
    _wait_for_file(run_dir, "checkpoints/last.ckpt", proc)
    proc.send_signal(signal.SIGUSR1)  # what `--signal=USR1@90` delivers before the time limit
    _wait_for_file(run_dir, "hpc_ckpt_*.ckpt", proc, timeout=60)
    end = time.monotonic() + 60
    while not (tmp_path / "scontrol.txt").exists() and time.monotonic() < end:
        time.sleep(0.5)
    assert (tmp_path / "scontrol.txt").read_text().split() == ["requeue", "4242"]
    proc.send_signal(signal.SIGTERM)  # what the requeue then does to the running job
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, out[-3000:]

    restarted = subprocess.run([sys.executable, "-m", "visiontrain.train", "logger=csv", *LONG],  # the same command
                               cwd=tmp_path, env=_env(**slurm, SLURM_RESTART_COUNT="1"),
                               check=False, capture_output=True, text=True, timeout=900)  # all 30 epochs
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "finished"
    assert "Resuming from" in (run_dir / "train.log").read_text()


def test_optuna_sweep_continues_from_its_sqlite_storage(tmp_path):
    optuna = pytest.importorskip("optuna")
    args = ["hparams_search=classifier_optuna", "hydra.sweeper.n_trials=2", "logger=csv", "trainer.max_epochs=1",
            "trainer.limit_train_batches=2", *QUIET]
    for _ in range(2):  # the second invocation must add trials 2 and 3 to the same study
        proc = subprocess.run([sys.executable, "-m", "visiontrain.train", *args], cwd=tmp_path, env=_env(),
                              check=False, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="quickstart-classifier",
                              storage=f"sqlite:///{tmp_path}/outputs/quickstart/optuna.sqlite")
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    assert len({t.params["model.optimizer.lr"] for t in study.trials}) == 4  # new parameters, not repeats
    assert len(list((tmp_path / "outputs" / "quickstart" / "multiruns").iterdir())) == 2


def test_wandb_agent_command_line_runs_through_vt_train(tmp_path):
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    sweep = yaml.safe_load((REPO / "scripts" / "wandb_sweep.yaml").read_text())
    params = {"model.optimizer.lr": 0.002, "model.optimizer.weight_decay": 1e-5, "data.batch_size": 32}
    # what wandb_agent.Agent._command_run builds from the sweep's `command` for one suggested run
    sweep_vars = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    sweep_vars["env"] = ["/usr/bin/env"]
    command = []
    for chunk in create_sweep_command(list(sweep["command"])):
        chunk = str(chunk)
        command += sweep_vars.get(chunk[2:-1], []) if chunk.startswith("${") and chunk.endswith("}") else [chunk]
    assert command[:2] == ["/usr/bin/env", "vt-train"] and "data.batch_size=32" in command
    command = [*command[:2], *QUIET, "trainer.limit_train_batches=2", *command[2:], "trainer.max_epochs=1"]
    env = _env(WANDB_RUN_ID="agent0001", PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.run(command, cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = (tmp_path / "outputs" / "quickstart" / "runs").iterdir()
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "finished"
    config = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert config["model"]["optimizer"]["lr"] == 0.002 and config["data"]["batch_size"] == 32
    assert _wandb_ids(run_dir) == ["agent0001"]  # the run id the agent chose: the sweep sees this run
