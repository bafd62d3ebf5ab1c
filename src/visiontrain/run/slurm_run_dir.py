"""Which run directory a `vt-train` command gets inside a Slurm job: one run, one directory.

An sbatch script may run several commands (lr=0.001, then lr=0.003). Each gets its own directory:
``slurm-<job>`` for the first, ``slurm-<job>-1``, ``slurm-<job>-2``… for the next ones, counted per job (array jobs
use ``<array job>_<task>``). The tasks of one multi-task ``srun`` step (DDP ranks) share ``slurm-<job>.<step>``.

After a requeue (``SLURM_RESTART_COUNT`` > 0, or ``resume=auto``) the script runs again from the top, so the n-th
command finds the n-th directory again and resumes there, provided it was started with the same overrides;
otherwise it stops with an error rather than continue someone else's run.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from visiontrain.errors import ConfigError

_IGNORED = ("resume",)  # keys that may differ between a run and its continuation
_chosen: dict[str, str] = {}  # runs dir → id, once per process (every interpolation must give the same dir)
_ordinals: dict[str, int] = {}  # runs dir → this command's place in the job, counted once per process


def slurm_base_id(env: Mapping[str, str]) -> str:
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        return f"slurm-{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return f"slurm-{env['SLURM_JOB_ID']}"


def is_requeued(env: Mapping[str, str]) -> bool:
    try:
        return int(env.get("SLURM_RESTART_COUNT") or 0) > 0
    except ValueError:
        return False


def comparable(overrides: Sequence[str]) -> list[str]:
    return sorted(o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in _IGNORED)


def stored_overrides(run_dir: Path) -> list[str] | None:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return None
    import yaml

    return list(yaml.safe_load(path.read_text()) or [])


def choose_slurm_run_id(runs_dir: str | Path, overrides: Sequence[str] | None, env: Mapping[str, str] | None = None,
                        ordinals: dict[str, int] | None = None) -> str:
    """The run id (directory name under ``runs_dir``) of this command in this Slurm job. ``overrides`` None: not
    known yet (nothing is checked against the stored run); ``ordinals``: where the command's count is kept, so that
    asking again in the same process does not count it twice."""
    env = os.environ if env is None else env
    runs_dir = Path(runs_dir)
    base = slurm_base_id(env)
    continuing = is_requeued(env) or "resume=auto" in (overrides or [])
    if int(env.get("SLURM_STEP_NUM_TASKS") or 1) > 1 and env.get("SLURM_STEP_ID"):
        # all tasks of the step resolve this at once: the name must not depend on what the others created
        name = f"{base}.{env['SLURM_STEP_ID']}"
        if continuing and overrides is not None:
            _check_same_run(runs_dir / name, overrides, env)
        return name
    ordinals = {} if ordinals is None else ordinals
    if str(runs_dir) not in ordinals:
        ordinals[str(runs_dir)] = _next_ordinal(runs_dir, base, env.get("SLURM_RESTART_COUNT") or "0")
    ordinal = ordinals[str(runs_dir)]
    name = _numbered(base, ordinal)
    if continuing:
        if overrides is not None:
            _check_same_run(runs_dir / name, overrides, env)
        return name
    while (runs_dir / name / ".hydra").exists():  # a leftover of an earlier run: never share it
        ordinal += 1
        name = _numbered(base, ordinal)
    return name


def _numbered(base: str, ordinal: int) -> str:
    return base if ordinal == 0 else f"{base}-{ordinal}"


def _check_same_run(run_dir: Path, overrides: Sequence[str], env: Mapping[str, str]) -> None:
    stored = stored_overrides(run_dir)
    if stored is None or comparable(stored) == comparable(overrides):
        return
    only_then = sorted(set(comparable(stored)) - set(comparable(overrides)))
    only_now = sorted(set(comparable(overrides)) - set(comparable(stored)))
    raise ConfigError(
        f"requeued Slurm job {env.get('SLURM_JOB_ID')}: {run_dir} ran with overrides {only_then} before the requeue, "
        f"this command has {only_now}; a requeued job must repeat its commands (or set hydra.run.dir for a new run)")


def _next_ordinal(runs_dir: Path, base: str, restart: str) -> int:
    """How many commands of this job (this restart of it) asked before; counted in a locked file under runs_dir."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with open(runs_dir / f".{base}.count", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        try:
            state = json.loads(handle.read() or "{}")
        except ValueError:
            state = {}
        ordinal = int(state.get("next", 0)) if state.get("restart") == restart else 0
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"restart": restart, "next": ordinal + 1}))
    return ordinal


def slurm_run_id(runs_dir: str) -> str:
    """Resolver body: the Slurm run id for ``runs_dir``, chosen once per process. Asked before Hydra holds the run's
    config (a Hydra callback's ``on_run_start`` resolves the run dir to check it is writable), the command's
    overrides are unknown: the name is given unchecked and decided again, from the same count, once they are known
    (checking against none made a requeued job's first look fail and its second count it as the next command)."""
    if runs_dir not in _chosen:
        from hydra.core.hydra_config import HydraConfig

        known = HydraConfig.initialized()
        name = choose_slurm_run_id(runs_dir, list(HydraConfig.get().overrides.task) if known else None,
                                   ordinals=_ordinals)
        if not known:
            return name
        _chosen[runs_dir] = name
    return _chosen[runs_dir]
