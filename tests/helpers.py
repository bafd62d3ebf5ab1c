"""Compose the real config tree the way users run it, shrunk for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.resolvers import register_resolvers

# Shrinks any training config to a few CPU batches without loggers, bars or early stopping surprises.
FAST = (
    "trainer=cpu",
    "logger=none",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "trainer.num_sanity_val_steps=0",
    "trainer.enable_progress_bar=false",
)


def compose_cfg(overrides: Sequence[str], tmp_path: Path, data_dir: Path | None = None,
                config_name: str = "train") -> DictConfig:
    """Compose ``config_name`` with ``overrides``; the run dir is ``tmp_path/run``, data under ``data_dir``."""
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name, overrides=list(overrides), return_hydra_config=True)
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        cfg.paths.root_dir = str(tmp_path)
        cfg.paths.data_dir = str(data_dir or tmp_path / "data")
        cfg.paths.output_dir = str(run_dir)
        cfg.hydra.runtime.output_dir = str(run_dir)
        cfg.hydra.job.id = "test"
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def run_cli(module: str, args: Sequence[str], cwd: Path, timeout: float = 600, env: dict | None = None):
    """Run ``python -m visiontrain.<module> args`` as a user would; returns the CompletedProcess."""
    full_env = {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1", **(env or {})}
    if env and "PYTHONPATH" in env and os.environ.get("PYTHONPATH"):  # the test's paths first, the caller's kept
        full_env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], os.environ["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-m", f"visiontrain.{module}", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
