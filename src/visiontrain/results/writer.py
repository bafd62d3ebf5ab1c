"""The callback that keeps ``results.csv`` and ``results.png`` up to date in the run directory, with any logger
(``logger=none`` included): the run directory alone is enough to see how training went."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytorch_lightning as pl

from visiontrain.results.publish import publish
from visiontrain.results.table import NAME, epoch_metrics, learning_rates, read_rows, write_rows

log = logging.getLogger(__name__)


class ResultsWriter(pl.Callback):
    """Writes epoch ``e``'s row once everything of that epoch is logged. Lightning calls callbacks'
    ``on_train_epoch_end`` *before* the module's (where e.g. the classifier logs ``train/acc``), so the row is
    written at the next epoch's start, at the end of training, or when training stops on an exception.

    ``plot``: also draw ``results.png``. Drawings cost a second or two on a CPU core (results.png, and each
    family's validation figures: confusion matrices, curves, mosaics), so while training they are redrawn at most
    once per ``figures_every_s`` of wall time — always after the first epoch and at the end (the last epoch's
    validation, the end of training, a failure) — and a short epoch does not pay for them every time."""

    def __init__(self, dirpath: str | None = None, plot: bool = True, figures_every_s: float = 30.0) -> None:
        self.dirpath = dirpath
        self.plot = plot
        self.figures_every_s = figures_every_s
        self._rows: list[dict[str, float]] = []
        self._started: float | None = None
        self._pending: dict[str, float] | None = None  # epoch, step and time of a finished epoch not yet written
        self._plotted_at: float | None = None
        self._figures: tuple[int, bool] | None = None  # (epoch, decision) of the validation figures
        self._figures_at: float | None = None

    def _due(self, last: float | None) -> bool:
        return last is None or time.monotonic() - last >= self.figures_every_s

    def figures_due(self, trainer: pl.Trainer) -> bool:
        """Whether this epoch's validation draws its figures; decided once per epoch (mosaics at the first batch and
        the epoch-end figures agree)."""
        epoch = trainer.current_epoch
        if self._figures is None or self._figures[0] != epoch:
            last_epoch = trainer.max_epochs is not None and 0 < trainer.max_epochs <= epoch + 1
            due = last_epoch or self._due(self._figures_at)
            if due:
                self._figures_at = time.monotonic()
            self._figures = (epoch, due)
        return self._figures[1]

    def _dir(self, trainer: pl.Trainer) -> Path:
        return Path(self.dirpath or trainer.default_root_dir)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        # a resumed run continues its table: rows of epochs it will train again are dropped
        start = trainer.current_epoch
        self._rows = [r for r in read_rows(self._dir(trainer) / NAME) if r.get("epoch", -1) < start]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer, final=False)
        self._started = time.monotonic()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        elapsed = time.monotonic() - self._started if self._started is not None else float("nan")
        self._pending = {"epoch": trainer.current_epoch, "step": trainer.global_step, "epoch_time_s": elapsed,
                         **learning_rates(trainer.optimizers)}  # the rates this epoch trained with

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer)
        publish(trainer, self._dir(trainer))

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        publish(trainer, self._dir(trainer))  # the test figures (confusion matrices, …) are drawn by now

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._flush(trainer)

    def _flush(self, trainer: pl.Trainer, final: bool = True) -> None:
        if self._pending is None or not trainer.is_global_zero:
            return
        row = {**epoch_metrics(trainer.callback_metrics), **self._pending}
        self._pending = None
        self._rows.append(row)
        out = self._dir(trainer)
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_rows(out / NAME, self._rows)
            if self.plot and (final or self._due(self._plotted_at)):
                from visiontrain.results.curves import plot_results

                plot_results(self._rows, out / "results.png", title=out.name)
                self._plotted_at = time.monotonic()
        except OSError as exc:  # a full disk must not end a training run
            log.warning(f"results.csv/results.png not written: {exc}")
