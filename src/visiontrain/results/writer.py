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

    ``plot``: also redraw ``results.png`` (about 0.3 s a time on a CPU core, at most once per epoch)."""

    def __init__(self, dirpath: str | None = None, plot: bool = True) -> None:
        self.dirpath = dirpath
        self.plot = plot
        self._rows: list[dict[str, float]] = []
        self._started: float | None = None
        self._pending: dict[str, float] | None = None  # epoch, step and time of a finished epoch not yet written

    def _dir(self, trainer: pl.Trainer) -> Path:
        return Path(self.dirpath or trainer.default_root_dir)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        # a resumed run continues its table: rows of epochs it will train again are dropped
        start = trainer.current_epoch
        self._rows = [r for r in read_rows(self._dir(trainer) / NAME) if r.get("epoch", -1) < start]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer)
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

    def _flush(self, trainer: pl.Trainer) -> None:
        if self._pending is None or not trainer.is_global_zero:
            return
        row = {**epoch_metrics(trainer.callback_metrics), **self._pending}
        self._pending = None
        self._rows.append(row)
        out = self._dir(trainer)
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_rows(out / NAME, self._rows)
            if self.plot:
                from visiontrain.results.curves import plot_results

                plot_results(self._rows, out / "results.png", title=out.name)
        except OSError as exc:  # a full disk must not end a training run
            log.warning(f"results.csv/results.png not written: {exc}")
