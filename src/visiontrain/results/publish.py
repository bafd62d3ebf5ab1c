"""Where results leave the run: the run directory's files (results.csv/png, the family figures) as artifacts of
loggers that keep files, and W&B tables (per-class metrics, sample predictions with their boxes or masks). The
figures themselves reach the image loggers as they are drawn (``results.figures.save_and_log``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

PATTERNS = ("results.csv", "*.png", "*.jpg")


def result_files(run_dir: Path) -> list[Path]:
    """The top-level result files of a run dir (not checkpoints, not the loggers' own folders)."""
    return sorted({p for pattern in PATTERNS for p in run_dir.glob(pattern) if p.is_file()
                   and ".tmp." not in p.name})


def publish(trainer, run_dir: Path) -> None:
    """MLflow gets each file as an artifact under ``results/`` (logged again: the newest version wins). TensorBoard and
    W&B already received the figures as images when they were drawn."""
    from pytorch_lightning.loggers import MLFlowLogger

    loggers = [lg for lg in trainer.loggers if isinstance(lg, MLFlowLogger)]
    if not loggers or not trainer.is_global_zero:
        return
    files = result_files(run_dir)
    for lg in loggers:
        try:
            for path in files:
                lg.experiment.log_artifact(lg.run_id, str(path), "results")
        except Exception as exc:  # a tracking server gone away must not fail a finished run
            log.warning(f"MLflow: results not uploaded ({exc})")


def wandb_loggers(trainer) -> list:
    from pytorch_lightning.loggers import WandbLogger

    return [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)] if trainer.is_global_zero else []


def log_table(trainer, key: str, columns: Sequence[str], rows: Callable[[], list[list]] | list[list]) -> bool:
    """A ``wandb.Table`` under ``key`` for each W&B logger; ``rows`` may be a function, called only when W&B is on
    (rows holding ``wandb.Image`` cost an image copy each). True when a table was logged."""
    loggers = wandb_loggers(trainer)
    if not loggers:
        return False
    data = rows() if callable(rows) else rows
    for lg in loggers:
        lg.log_table(key, columns=list(columns), data=data, step=trainer.global_step)
    return True
