"""Slurm: Lightning's SLURMEnvironment does the requeue; the config only chooses the signal.

On ``requeue_signal`` (sent by Slurm ``signal_delay_s`` before the time limit: ``--signal=USR1@90``) Lightning saves
``hpc_ckpt_<n>.ckpt`` in the run dir and runs ``scontrol requeue <job id>``; the restarted job has the same id, hence
the same run dir, and resumes from the newest checkpoint there (run/resume.py).
"""

from __future__ import annotations

import signal
from typing import Any

from visiontrain.errors import ConfigError


def parse_signal(name: str) -> signal.Signals:
    text = str(name).upper()
    text = text if text.startswith("SIG") else f"SIG{text}"
    try:
        return signal.Signals[text]
    except KeyError:
        raise ConfigError(f"requeue_signal: unknown signal '{name}' (e.g. USR1, USR2, SIGUSR1)") from None


def slurm_plugins(cfg: Any) -> list[Any]:
    """``[SLURMEnvironment(auto_requeue=True, requeue_signal=…)]`` inside a Slurm job, else ``[]``."""
    from lightning_fabric.plugins.environments import SLURMEnvironment

    if not SLURMEnvironment.detect():
        return []
    name = cfg.get("requeue_signal")
    if not name:  # null: no requeue (Lightning would otherwise requeue on SIGUSR1 by default)
        return [SLURMEnvironment(auto_requeue=False)]
    return [SLURMEnvironment(auto_requeue=True, requeue_signal=parse_signal(name))]
