"""Resolvers used by the hparams_search and launcher configs."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf


def sqlite_url(path: str) -> str:
    """``sqlite:///<absolute path>``, creating the folder: SQLite does not, and Optuna opens the study before
    Hydra creates any output folder."""
    file = Path(path).expanduser().resolve()
    file.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{file}"


def optuna_direction(mode: str) -> str:
    """``optimized_mode`` (max | min) as Optuna's direction."""
    return {"max": "maximize", "min": "minimize"}.get(str(mode), str(mode))


def tasks_per_node(devices, gpus_per_node) -> int:
    """Slurm tasks per node = the trainer's devices per node (Lightning's SLURMEnvironment needs them equal);
    ``devices=auto`` or ``-1`` means all the GPUs the launcher asks for (1 on a CPU node)."""
    if isinstance(devices, int) and devices > 0:
        return devices
    if isinstance(devices, str) and devices.isdigit():
        return int(devices)
    return int(gpus_per_node or 0) or 1


def register_sweep_resolvers() -> None:
    for name, fn in (("vt_sqlite", sqlite_url), ("vt_direction", optuna_direction), ("vt_tasks", tasks_per_node)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
