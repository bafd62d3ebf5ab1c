"""Progress that batch logs can show: a log line every N steps and one per epoch when stdout is not a terminal.

With stdout going to a file (Slurm ``.out``, ``nohup``, ``| tee``) Lightning's Rich bar prints nothing until ``fit``
ends. These lines go through the ``visiontrain`` logger, so they reach stdout at once and Hydra's job log
(``train.log``) too. On a terminal the Rich bar stays.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar, RichProgressBar

log = logging.getLogger("visiontrain.progress")


def progress_bar(refresh_rate: int = 5, every_n_steps: int = 50, monitor: str | None = None) -> ProgressBar:
    """The Rich bar on a terminal, log lines otherwise (the config's ``callbacks.rich_progress_bar``)."""
    if sys.stdout.isatty():
        return RichProgressBar(refresh_rate=refresh_rate)
    return LineProgress(every_n_steps=every_n_steps, monitor=monitor)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _number(value: Any) -> str:
    try:
        return f"{float(value.item() if hasattr(value, 'item') else value):.4g}"
    except (TypeError, ValueError, RuntimeError):
        return str(value)


class LineProgress(ProgressBar):
    def __init__(self, every_n_steps: int = 50, monitor: str | None = None) -> None:
        super().__init__()
        self.every_n_steps = max(1, int(every_n_steps))
        self.monitor = monitor
        self._enabled = True
        self._fit_start = self._epoch_start = 0.0
        self._steps_before = 0  # batches done before this process started (a resumed run)

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def _on(self, trainer: pl.Trainer) -> bool:
        return self._enabled and trainer.is_global_zero

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fit_start = time.monotonic()
        self._steps_before = trainer.fit_loop.epoch_loop.batch_progress.total.completed

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = time.monotonic()

    def _fit_total(self, trainer: pl.Trainer) -> float:
        per_epoch = self.total_train_batches
        totals = [per_epoch * trainer.max_epochs] if trainer.max_epochs and trainer.max_epochs > 0 else []
        totals += [trainer.max_steps * trainer.accumulate_grad_batches] if trainer.max_steps > 0 else []
        return min(totals) if totals else math.inf

    def _line(self, trainer: pl.Trainer, batch_in_epoch: int) -> str:
        now = time.monotonic()
        done = trainer.fit_loop.epoch_loop.batch_progress.total.completed
        rate = (done - self._steps_before) / max(now - self._fit_start, 1e-9)
        per_epoch = self.total_train_batches
        epochs = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else "?"
        epoch_eta = (per_epoch - batch_in_epoch) / rate if rate > 0 else math.inf
        fit_eta = (self._fit_total(trainer) - done) / rate if rate > 0 else math.inf
        per_epoch_text = per_epoch if math.isfinite(per_epoch) else "?"
        return (f"epoch {trainer.current_epoch}/{epochs} batch {batch_in_epoch}/{per_epoch_text} "
                f"step {trainer.global_step} | {rate:.2f} it/s | ETA epoch {_clock(epoch_eta)} fit {_clock(fit_eta)}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if not self._on(trainer) or (batch_idx + 1) % self.every_n_steps:
            return
        loss = trainer.callback_metrics.get("train/loss_step", trainer.callback_metrics.get("train/loss"))
        log.info(self._line(trainer, batch_idx + 1) + (f" | train/loss {_number(loss)}" if loss is not None else ""))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._on(trainer):
            return
        metrics = trainer.callback_metrics
        shown = [self.monitor] if self.monitor in metrics else []
        shown += [k for k in ("train/loss_epoch", "train/loss", "val/loss") if k in metrics and k not in shown][:2]
        text = " ".join(f"{k} {_number(metrics[k])}" for k in shown)
        took = time.monotonic() - self._epoch_start
        log.info(f"{self._line(trainer, trainer.fit_loop.epoch_loop.batch_progress.current.completed)} | "
                 f"epoch done in {_clock(took)}" + (f" | {text}" if text else ""))
