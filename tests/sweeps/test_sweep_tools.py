"""Fast checks (no training): resume command lines, vt-compare / vt-sync on run dirs, launcher and Optuna configs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra.utils import instantiate
from omegaconf import OmegaConf

from helpers import compose_cfg
from visiontrain.compare import build_report
from visiontrain.compare import main as compare_main
from visiontrain.sync import offline_runs, sync_command
from visiontrain.run.resume import expand_resume_argv, latest_checkpoint
from visiontrain.config.sweep_resolvers import register_sweep_resolvers


def _fake_run(path: Path, overrides, status="finished", metrics=None, mode="max", curve=()):
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    (path / ".hydra" / "config.yaml").write_text(f"task_name: t\noptimized_metric: val/acc\noptimized_mode: {mode}\n")
    record = {"status": status, "metrics": metrics or {}, "best_model_path": None, "duration_s": 3.0}
    (path / "metrics.json").write_text(json.dumps(record))
    if curve:
        (path / "csv").mkdir()
        rows = "\n".join(f"{i},{i * 10},{v}" for i, v in enumerate(curve))
        (path / "csv" / "metrics.csv").write_text("epoch,step,val/acc\n" + rows + "\n")
    return path


def test_resume_run_dir_reuses_its_overrides_and_later_ones_win(tmp_path):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["model.optimizer.lr=0.01", "trainer.max_epochs=3",
                                                                   "resume=old"]))
    argv = expand_resume_argv(["vt-train", f"resume={run}", "trainer.max_epochs=9"])
    assert argv == ["vt-train", "model.optimizer.lr=0.01", f"resume={run}", "trainer.max_epochs=9",
                    f"hydra.run.dir='{run.resolve()}'"]
    auto = expand_resume_argv(["vt-train", "resume=auto", f"hydra.run.dir={run}"])
    assert auto == ["vt-train", "model.optimizer.lr=0.01", "trainer.max_epochs=3", "resume=auto",
                    f"hydra.run.dir={run}"]
    assert expand_resume_argv(["vt-train", "-m", f"resume={run}"]) == ["vt-train", "-m", f"resume={run}"]
    with pytest.raises(SystemExit, match="not a vt-train run directory"):
        expand_resume_argv(["vt-train", f"resume={tmp_path / 'nope'}"])


def test_latest_checkpoint_is_the_newest_of_last_and_hpc(tmp_path):
    import os

    assert latest_checkpoint(tmp_path) is None
    (tmp_path / "checkpoints").mkdir()
    last, hpc = tmp_path / "checkpoints" / "last.ckpt", tmp_path / "hpc_ckpt_1.ckpt"
    last.write_bytes(b"x")
    hpc.write_bytes(b"x")
    os.utime(last, ns=(1, 2_000_000_000))
    os.utime(hpc, ns=(1, 1_000_000_000))
    assert latest_checkpoint(tmp_path) == str(last)
    os.utime(hpc, ns=(1, 3_000_000_000))
    assert latest_checkpoint(tmp_path) == str(hpc)


def test_compare_sorts_by_metric_shows_only_differing_overrides_and_plots(tmp_path, capsys):
    sweep = tmp_path / "multiruns" / "s"
    _fake_run(sweep / "0", ["seed=1", "model.optimizer.lr=0.001"], metrics={"val/acc": 0.5}, curve=(0.2, 0.5))
    _fake_run(sweep / "1", ["seed=1", "model.optimizer.lr=0.01"], metrics={"val/acc": 0.9}, curve=(0.4, 0.9))
    _fake_run(sweep / "2", ["seed=1", "model.optimizer.lr=-1"], status="failed")
    (table,) = build_report([tmp_path]).groups
    assert [r.path.name for r in table.runs] == ["1", "0", "2"]  # best first, failed last
    assert table.swept == ["model.optimizer.lr"]  # seed is the same everywhere
    assert build_report([tmp_path], mode="min").groups[0].runs[0].path.name == "0"
    out = tmp_path / "plot.png"
    assert compare_main([str(sweep), "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "model.optimizer.lr" in text and "seed" not in text and "failed" in text
    assert out.stat().st_size > 5000
    with pytest.raises(SystemExit, match="no such file"):
        compare_main([str(tmp_path / "missing")])


def test_compare_cli_answers_without_importing_torch(tmp_path):
    _fake_run(tmp_path / "r", ["a=1"], metrics={"val/acc": 0.5})
    code = "import sys; from visiontrain.compare import main; main([sys.argv[1]]); assert 'torch' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_sync_finds_every_offline_run(tmp_path):
    for name in ("a/wandb/offline-run-1-x", "b/c/wandb/offline-run-2-y"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "a" / "wandb" / "run-3-online").mkdir()
    runs = offline_runs([tmp_path])
    assert [r.name for r in runs] == ["offline-run-1-x", "offline-run-2-y"]
    command = sync_command(runs)
    assert command[1] == "sync" and command[2:] == [str(r) for r in runs]


def test_slurm_launcher_tasks_per_node_follow_the_trainer_devices(tmp_path):
    register_sweep_resolvers()
    cfg = compose_cfg(["launcher=submitit_slurm", "trainer=ddp_cpu"], tmp_path)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["tasks_per_node"] == 2 and launcher["nodes"] == 1
    assert launcher["additional_parameters"]["signal"] == "USR1@90"
    gpus = compose_cfg(["launcher=submitit_slurm", "trainer=ddp", "trainer.num_nodes=2",
                        "hydra.launcher.gpus_per_node=4"], tmp_path)
    launcher = OmegaConf.to_container(gpus.hydra.launcher, resolve=True)
    assert (launcher["tasks_per_node"], launcher["nodes"]) == (4, 2)  # devices=auto: all GPUs asked for


@pytest.mark.parametrize("name,experiment", [("classifier_optuna", "quickstart"), ("style_optuna", "style_transfer"),
                                             ("unet_optuna", "seg_shapes_unet"),
                                             ("faster_rcnn_optuna", "det_shapes_frcnn")])
def test_optuna_configs_compose_with_sqlite_storage_under_outputs(tmp_path, name, experiment):
    register_sweep_resolvers()
    cfg = compose_cfg([f"experiment={experiment}", f"hparams_search={name}"], tmp_path)
    sweeper = OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)
    assert sweeper["_target_"] == "hydra_plugins.visiontrain_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert sweeper["storage"].startswith(f"sqlite:///{tmp_path}/outputs/")
    assert sweeper["direction"] in ("maximize", "minimize") and sweeper["params"]
    for key in sweeper["params"]:
        assert OmegaConf.select(cfg, key) is not None, key  # every searched key exists in the composed config
    pruner = instantiate(sweeper["pruner"])
    if name == "style_optuna":  # nothing logged is a quality score: no pruning, no reporting
        assert type(pruner).__name__ == "NopPruner" and "optuna_pruning" not in cfg.callbacks
    else:  # the jobs' callback prunes with the sweeper's own pruner
        callback = instantiate(cfg.callbacks.optuna_pruning)
        assert type(callback.pruner) is type(pruner) and callback.monitor == cfg.optimized_metric
        assert callback.ref is None  # outside a search job: no trial, nothing reported


@pytest.mark.parametrize("pruner,cls", [("successive_halving", "SuccessiveHalvingPruner"),
                                        ("hyperband", "HyperbandPruner"), ("none", "NopPruner")])
def test_optuna_pruner_and_journal_storage_are_config_choices(tmp_path, pruner, cls):
    pytest.importorskip("optuna")
    cfg = compose_cfg(["hparams_search=unet_optuna", "experiment=seg_shapes_unet", f"pruner={pruner}",
                       "hydra.sweeper.storage=/shared/me/s.journal"], tmp_path)
    assert type(instantiate(cfg.callbacks.optuna_pruning).pruner).__name__ == cls
    assert "n_warmup_steps" not in cfg.hydra.sweeper.pruner  # the median's settings do not leak into the others
    assert cfg.hydra.sweeper.storage == "/shared/me/s.journal"
