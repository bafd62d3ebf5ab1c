"""OmegaConf resolvers used by the config tree. Registered before Hydra composes (cheap: no heavy imports)."""

import os
from datetime import datetime

from omegaconf import OmegaConf


def run_id(runs_dir: str | None = None) -> str:
    """Under Slurm ``slurm-<job>[-<n>]`` (one per command of the job; a requeued job finds its own again, see
    run/slurm_run_dir.py), else a timestamp with microseconds so that two runs started in the same second get
    different directories."""
    if os.environ.get("SLURM_JOB_ID"):
        from visiontrain.run.slurm_run_dir import slurm_base_id, slurm_run_id

        return slurm_run_id(runs_dir) if runs_dir else slurm_base_id(os.environ)
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")


def family(target: str) -> str:
    """Task family from a model's ``_target_``: visiontrain.models.<family>.… → <family>."""
    parts = str(target).split(".")
    if len(parts) > 2 and parts[0] == "visiontrain" and parts[1] == "models":
        return parts[2]
    return "custom"


def wandb_group(default: str) -> str:
    """W&B group: the sweep id under a multirun, otherwise the experiment name."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        if hc.mode == RunMode.MULTIRUN:
            return f"{default}-{os.path.basename(str(hc.sweep.dir))}"
    except Exception:  # not under Hydra (e.g. compose in tests)
        pass
    return default


def run_name(output_dir: str) -> str:
    """The run's name in every logger, from its run dir: ``<id>`` for ``runs/<id>``, ``<sweep id>-<n>`` for a sweep's
    job ``multiruns/<sweep id>/<n>``, so that no two runs (sweep jobs of two sweeps included) share one."""
    path = os.path.normpath(str(output_dir))
    parent, name = os.path.split(path)
    if os.path.basename(os.path.dirname(parent)) == "multiruns":
        return f"{os.path.basename(parent)}-{name}"
    return name


def register_resolvers() -> None:
    from visiontrain.run.precision import bf16_where_fast  # no torch import
    from visiontrain.families.config import (  # imports models only
        default_metric,
        default_mode,
        default_task_name,
    )
    # when resolved

    # vt_cwd: the directory vt-train was started from, also where ${hydra:runtime.cwd} is not yet known (sweep dirs)
    resolvers = (("vt_run_id", run_id), ("vt_family", family), ("vt_group", wandb_group), ("vt_cwd", os.getcwd),
                 ("vt_family_metric", default_metric), ("vt_family_mode", default_mode), ("vt_run_name", run_name),
                 ("vt_family_task", default_task_name), ("vt_bf16_where_fast", bf16_where_fast))
    for name, fn in resolvers:
        if not OmegaConf.has_resolver(name):
            # use_cache: every interpolation of the run id in one config must give the same value
            OmegaConf.register_new_resolver(name, fn, use_cache=name == "vt_run_id")
