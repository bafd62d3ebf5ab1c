"""W&B without surprises: offline when no account is configured, one run per Hydra job, a line on how to sync.

The ``WANDB_MODE`` environment variable is what keeps W&B off the network: the ``offline=True`` keyword alone still
starts telemetry that tries DNS and HTTP.

W&B stages every artifact file it logs (the ``wandb.Table`` of per-class metrics and sample predictions are
artifacts) under ``WANDB_DATA_DIR``, by default ``~/.local/share/wandb/artifacts/staging``, and offline nothing ever
removes them: they piled up in the home folder, apart from the runs they belong to. Each job (train, eval, …) sets
``WANDB_DATA_DIR`` to ``<run dir>/wandb/data`` (unless the user set it), so that its run directory holds all its W&B
files and deleting the run deletes them.
"""

from __future__ import annotations

import logging
import netrc
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    try:
        hosts = netrc.netrc(path).hosts
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    base = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0]
    return base in hosts


def choose_wandb_mode() -> str:
    """Set WANDB_MODE=offline unless the user chose a mode or has credentials. Returns the mode in force."""
    if "WANDB_MODE" not in os.environ and not has_wandb_credentials():
        os.environ["WANDB_MODE"] = "offline"
        log.info("W&B: no credentials found, logging offline (set WANDB_MODE=online after `wandb login` to upload)")
    os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
    run_dir = _hydra_run_dir()
    if run_dir:  # every entry point (vt-eval's test tables too), before any logger exists
        keep_wandb_files_in(run_dir)
    return os.environ.get("WANDB_MODE", "online")


def _hydra_run_dir() -> str | None:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return HydraConfig.get().runtime.output_dir or None


DATA_DIR_VAR = "WANDB_DATA_DIR"  # W&B's documented variable: where artifact files are staged for upload
_data_dir_set: str | None = None  # the value this module set (a user's own value is never replaced)


def keep_wandb_files_in(run_dir: str | Path) -> Path | None:
    """Stage W&B's artifact files under ``<run_dir>/wandb/data`` instead of the user's home. Returns the folder, or
    None where the user chose one with ``WANDB_DATA_DIR``."""
    global _data_dir_set
    current = os.environ.get(DATA_DIR_VAR)
    if current is not None and current != _data_dir_set:
        return None
    path = Path(run_dir).resolve() / "wandb" / "data"
    os.environ[DATA_DIR_VAR] = _data_dir_set = str(path)
    return path


def release_wandb_files() -> None:
    """Undo ``keep_wandb_files_in`` at the end of a job (the next job of a multirun sets its own)."""
    global _data_dir_set
    if _data_dir_set is not None and os.environ.get(DATA_DIR_VAR) == _data_dir_set:
        del os.environ[DATA_DIR_VAR]
    _data_dir_set = None


def report_and_finish() -> str | None:
    """End this job's W&B run (else the next job of a multirun logs into it) and say where it is."""
    if "wandb" not in sys.modules:
        release_wandb_files()
        return None
    import wandb

    run = wandb.run
    message = None
    if run is not None:
        run_dir = Path(run.dir).parent  # .../wandb/offline-run-<time>-<id>
        if os.environ.get("WANDB_MODE") in ("offline", "dryrun"):
            message = f"W&B run saved offline at {run_dir}; upload it with: wandb sync {run_dir}"
        else:
            message = f"W&B run: {run.url}"
        wandb.finish()
    release_wandb_files()
    return message


RUN_ID_FILE = "wandb_run_id"


def pin_wandb_run(logger_cfg, run_dir: str | Path) -> None:
    """Give the W&B logger the run id stored in the run dir (a new one the first time), so that a resumed or
    requeued job continues the same W&B run instead of starting another; and keep its staged files in the run dir."""
    from omegaconf import DictConfig, open_dict

    node = (logger_cfg or {}).get("wandb") if isinstance(logger_cfg, DictConfig) else None
    if node is None or node._is_none() or "Wandb" not in str(node.get("_target_", "")):
        return
    keep_wandb_files_in(run_dir)
    if node.get("id"):
        return
    from visiontrain.run.ranks import is_rank_zero

    if not is_rank_zero():  # only rank 0 talks to W&B
        return
    path = Path(run_dir) / RUN_ID_FILE
    if path.is_file():
        run_id = path.read_text().strip()
    elif os.environ.get("WANDB_RUN_ID"):  # a W&B sweep agent chose the id: the sweep only sees runs with it
        run_id = os.environ["WANDB_RUN_ID"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run_id + "\n")
    else:
        import secrets
        import string

        run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))  # W&B's format
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run_id + "\n")
    with open_dict(node):
        node.id = run_id
        node.resume = "allow"
