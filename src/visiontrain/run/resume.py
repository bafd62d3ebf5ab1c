"""Continue a run in its own run dir: after a Slurm requeue (automatic), or by hand.

    vt-train resume=<run dir>                          # same overrides as that run, same dir, same W&B run
    vt-train resume=auto hydra.run.dir=<run dir>       # the same, spelled with Hydra's run dir
    vt-train resume=<run dir> trainer.max_epochs=20    # later overrides win over the stored ones

Under Slurm each command of a job gets its own run dir (run/slurm_run_dir.py); after a requeue
(``SLURM_RESTART_COUNT`` > 0) it gets the same one again and resumes from the newest checkpoint there without being
told.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from visiontrain.errors import ConfigError
from visiontrain.run.ddp_sweep import started_for_sweep_job
from visiontrain.run.slurm_run_dir import is_requeued

log = logging.getLogger("visiontrain")

_NOT_A_DIR = (None, "", "null", "None", "auto", "false", "False")
_SET_HERE = ("resume", "hydra.run.dir")  # keys that expand_resume_argv decides, never taken from the stored run


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _value(args: Sequence[str], key: str) -> str | None:
    found = None
    for arg in args:
        if "=" in arg and _key(arg) == key:
            found = arg.split("=", 1)[1].strip("'\"")
    return found


def expand_resume_argv(argv: list[str]) -> list[str]:
    """``resume=<dir>`` (or ``resume=auto hydra.run.dir=<dir>``): run in that dir with the overrides stored in its
    ``.hydra/overrides.yaml``, followed by the ones given now (so those win). Other command lines are unchanged."""
    args = argv[1:]
    if "-m" in args or "--multirun" in args:
        return argv
    resume, run_dir = _value(args, "resume"), _value(args, "hydra.run.dir")
    explicit = resume not in _NOT_A_DIR
    if not explicit and not (resume == "auto" and run_dir):
        return argv
    target = Path(resume if explicit else run_dir).expanduser().resolve()
    stored = target / ".hydra" / "overrides.yaml"
    if not stored.is_file():
        if explicit:
            raise SystemExit(f"error: resume={resume}: not a vt-train run directory (no .hydra/overrides.yaml)")
        return argv  # resume=auto in a fresh dir: nothing to continue
    import yaml

    given = {_key(a) for a in args if "=" in a}
    kept = [o for o in (yaml.safe_load(stored.read_text()) or []) if _key(o) not in given | set(_SET_HERE)]
    extra = [f"hydra.run.dir={_quote(str(target))}"] if explicit else []
    return [argv[0], *kept, *args, *extra]


def checkpoint_to_resume(cfg: Any) -> str | None:
    """The checkpoint ``fit`` starts from: ``ckpt_path`` if set; else, with ``resume`` set or in a requeued Slurm
    job, the newest checkpoint in this run dir (a requeued job finds the one it saved before it was stopped).
    A new run never starts in a directory that holds another run's checkpoints."""
    from visiontrain.weights.checkpoints import check_loadable

    if cfg.get("ckpt_path"):
        check_loadable(cfg.ckpt_path)  # a refusal as one line here, not a traceback from inside fit
        return str(cfg.ckpt_path)
    mode = cfg.get("resume")
    run_dir = Path(cfg.paths.output_dir)
    found = latest_checkpoint(run_dir)
    if mode in (None, False) and not is_requeued(os.environ):
        if found and not started_for_sweep_job():
            raise ConfigError(f"hydra.run.dir: {run_dir} already holds another run ({Path(found).name}); "
                              "resume=auto continues it, or leave hydra.run.dir unset for a new run dir")
        return None
    if found:
        check_loadable(found)
        log.info(f"Resuming from {found}")
    elif mode not in (None, False, "auto"):
        raise ConfigError(f"resume={mode}: no checkpoint to resume in {run_dir} (expected checkpoints/last.ckpt)")
    elif mode == "auto":
        log.info(f"resume=auto: no checkpoint in {run_dir} yet, starting from scratch")
    return found


def latest_checkpoint(run_dir: str | Path) -> str | None:
    """Newest of ``checkpoints/last*.ckpt`` (end of epoch, SIGTERM) and Lightning's ``hpc_ckpt_*.ckpt`` (requeue
    signal)."""
    run_dir = Path(run_dir)
    candidates = [*run_dir.glob("checkpoints/last*.ckpt"), *run_dir.glob("hpc_ckpt_*.ckpt")]
    return str(max(candidates, key=lambda p: p.stat().st_mtime_ns)) if candidates else None


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
