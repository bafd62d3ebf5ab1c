"""Report the monitored metric to the job's Optuna trial after each validation; stop the run when the pruner says so.

Why not optuna-integration's PyTorchLightningPruningCallback: it needs the ``Trial`` object of the objective's own
process and raises ``TrialPruned`` out of ``fit`` (no last checkpoint at that epoch, no metrics.json of ours). Here the
trial lives in the sweeper's process, reached through storage + trial number (``TrialRef``, in the job's
environment), and a pruned run stops like early stopping: checkpoints saved, metrics.json ``status: pruned``.
Under DDP only rank 0 touches the storage and decides; the decision is broadcast so that every rank stops."""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl

from visiontrain.search.storage import TrialRef

log = logging.getLogger("visiontrain")

_pruned_at_epoch: int | None = None  # set when this process's run was pruned; read (and cleared) by run_job


def take_pruned_epoch() -> int | None:
    """The epoch at which the run that just ended was pruned, or None; clears it for the next job."""
    global _pruned_at_epoch
    epoch, _pruned_at_epoch = _pruned_at_epoch, None
    return epoch


class OptunaPruning(pl.Callback):
    """``monitor``: the metric the study optimizes; ``pruner``: the sweeper's pruner (``${hydra:sweeper.pruner}``),
    None → report only. Outside a search (no trial in the environment) it does nothing."""

    def __init__(self, monitor: str, pruner: Any = None) -> None:
        global _pruned_at_epoch
        _pruned_at_epoch = None
        self.monitor, self.pruner = monitor, pruner
        self.ref = TrialRef.from_env()  # read here: ddp_spawn ranks get this object pickled
        self._trial: Any = None
        self._last_epoch = -1

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.ref is not None and stage == "fit" and trainer.is_global_zero:
            self._trial = self.ref.load(self.pruner)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        global _pruned_at_epoch
        epoch = trainer.current_epoch
        if self.ref is None or trainer.sanity_checking or epoch == self._last_epoch:
            return  # one value per epoch: the pruners compare trials at the same step
        self._last_epoch = epoch
        prune = False
        if trainer.is_global_zero:
            value = trainer.callback_metrics.get(self.monitor)
            if value is None:
                log.warning(f"Pruning: {self.monitor!r} was not logged in validation; nothing reported")
            else:
                self._trial.report(float(value), step=epoch)
                prune = self.pruner is not None and self._trial.should_prune()
        prune = bool(trainer.strategy.broadcast(prune, src=0))
        if prune:
            trainer.should_stop = True
            _pruned_at_epoch = epoch
            if trainer.is_global_zero:
                log.info(f"Trial {self.ref.number} pruned after epoch {epoch}: {self.monitor}={float(value):.4f}")
