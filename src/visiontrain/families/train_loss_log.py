"""The training loss logged as ``self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)`` logs it,
and the loss terms as epoch means, without a ``self.log`` call per step and value.

The names and values are Lightning's: ``train/loss_step`` (progress bar and logger), ``train/loss_epoch`` (the
batch-size-weighted epoch mean, progress bar and logger), ``train/loss`` (the epoch mean, callback metrics) and each
term's epoch mean under its own name. What changes is how often ``self.log`` runs: each call has a fixed cost (it
walks Lightning's metric holder to move it to the value's device; benchmarks/README.md has the figure), and a
progress-bar value is converted to a float on every step it is logged, a device sync on a GPU. So the step value goes
through ``self.log`` only on the steps that show it — the logger's steps (``trainer.log_every_n_steps``), the epoch's
last batch, and for the progress bar at most once per ``SHOW_EVERY_S`` between them — and the epoch means are summed
on the device and logged once, when the epoch ends: at its last batch, or at the batch after which the run stops
(``max_steps`` reached, a callback set ``trainer.should_stop``). Everything is logged from ``on_train_batch_end``
(``VisionModule`` calls ``batch_end``): one hook, so that a name is never logged from two, and before the callbacks'
``on_train_epoch_end`` (results rows, checkpoints monitoring ``train/loss``), which runs before the module's. Step
values are not synchronised across processes (``sync_dist`` applies to the epoch means): each step would be a
collective.
"""

from __future__ import annotations

import math
import time
from typing import Mapping

import pytorch_lightning as pl
import torch

SHOW_EVERY_S = 0.5  # the progress bar's loss is at most this old between the logger's steps


def _logger_writes_this_step(trainer: pl.Trainer) -> bool:
    # Lightning's own rule for the steps whose step metrics reach the logger (it has no public accessor)
    return bool(trainer.fast_dev_run) or trainer._logger_connector.should_update_logs


class TrainLossLog:
    """The per-epoch sums of one module's training loss and terms; ``add`` once per training step."""

    def __init__(self) -> None:
        self._sums: torch.Tensor | None = None  # the batch-size-weighted sums: loss, then the terms
        self._names: list[str] = []
        self._count = 0
        self._sync = False
        self._shown_at = -math.inf
        self._step: tuple[torch.Tensor, int] | None = None  # this step's loss and batch size, until batch_end

    def add(self, loss: torch.Tensor, batch_size: int, terms: Mapping[str, torch.Tensor] | None = None,
            sync_dist: bool = False) -> None:
        """Sum this step's loss and terms (``batch_end`` logs them)."""
        loss, terms = loss.detach(), dict(terms or {})
        weighted = torch.stack([loss, *(v.detach() for v in terms.values())]).float() * batch_size
        if self._sums is None:
            self._sums, self._names, self._count, self._sync = weighted, list(terms), batch_size, sync_dist
        else:
            self._sums, self._count = self._sums + weighted, self._count + batch_size
        self._step = (loss, batch_size)

    def batch_end(self, module: pl.LightningModule) -> None:
        """After a training batch: the step value where it is shown, the epoch means where the epoch ends."""
        if self._step is None:
            return
        trainer, (loss, batch_size) = module.trainer, self._step
        self._step = None
        # the epoch ends at its last batch, or earlier where the run stops: max_steps reached, or a callback set
        # should_stop (a stop that min_epochs/min_steps refuse goes on with new sums; the batch-size-weighted mean
        # of the parts logged in one epoch is still the epoch's mean)
        ends = trainer.is_last_batch or trainer.should_stop or 0 <= trainer.max_steps <= trainer.global_step
        now = time.monotonic()
        if ends or _logger_writes_this_step(trainer) or now - self._shown_at >= SHOW_EVERY_S:
            self._shown_at = now
            module.log("train/loss_step", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=batch_size)
        if ends:
            self.flush(module)

    def flush(self, module: pl.LightningModule) -> None:
        """Log the epoch means summed so far (nothing when none are pending)."""
        if self._sums is None:
            return
        means, count, sync = self._sums / self._count, self._count, self._sync
        self._sums = None
        epoch_log = dict(on_step=False, on_epoch=True, batch_size=count, sync_dist=sync)
        module.log("train/loss_epoch", means[0], prog_bar=True, **epoch_log)
        module.log("train/loss", means[0], logger=False, **epoch_log)
        for name, mean in zip(self._names, means[1:]):
            module.log(name, mean, **epoch_log)
