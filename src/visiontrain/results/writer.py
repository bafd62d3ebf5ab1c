"""The callback that keeps ``results.csv`` and ``results.png`` up to date in the run directory, with any logger
(``logger=none`` included): the run directory alone is enough to see how training went."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytorch_lightning as pl

from visiontrain.results.figures import drawing, drawing_seconds
from visiontrain.results.publish import publish
from visiontrain.results.table import NAME, epoch_metrics, learning_rates, read_rows, write_rows

log = logging.getLogger(__name__)


class ResultsWriter(pl.Callback):
    """Writes epoch ``e``'s row once everything of that epoch is logged. Lightning calls callbacks'
    ``on_train_epoch_end`` *before* the module's (where e.g. the classifier logs ``train/acc``), so the row is
    written at the next epoch's start, at the end of training, or when training stops on an exception.

    ``plot``: also draw ``results.png``. Drawings cost a second or two on a CPU core (results.png, and each
    family's validation figures: confusion matrices, curves, mosaics), so while training an epoch's figures (its
    validation figures and its results.png) are drawn only when ``figures_every_s`` of wall time have passed since
    the last ones and the drawings so far have taken at most ``figures_max_share`` of the time since training
    started — always after the first epoch and at the end (the last epoch's validation, the end of training, a
    failure). A short epoch does not pay for them every time, nor a long run more than that share."""

    def __init__(self, dirpath: str | None = None, plot: bool = True, figures_every_s: float = 30.0,
                 figures_max_share: float = 0.02) -> None:
        self.dirpath = dirpath
        self.plot = plot
        self.figures_every_s = figures_every_s
        self.figures_max_share = figures_max_share
        self._rows: list[dict[str, float]] = []
        self._started: float | None = None
        self._pending: dict[str, float] | None = None  # epoch, step and time of a finished epoch not yet written
        self._figures: tuple[int, bool] | None = None  # (epoch, decision) of that epoch's figures
        self._figures_at: float | None = None
        self._budget_from = (time.monotonic(), drawing_seconds())  # reset at fit start

    def _within_budget(self, now: float) -> bool:
        started, drawn_before = self._budget_from
        return drawing_seconds() - drawn_before <= self.figures_max_share * (now - started)

    def _decide(self, epoch: int, last_epoch: bool) -> bool:
        """Whether epoch ``epoch``'s figures are drawn; decided once per epoch, so its validation figures (mosaics at
        the first batch, the epoch-end figures) and its results.png agree."""
        if self._figures is None or self._figures[0] != epoch:
            now = time.monotonic()
            due = last_epoch or self._figures_at is None or (
                now - self._figures_at >= self.figures_every_s and self._within_budget(now))
            if due:
                self._figures_at = now
            self._figures = (epoch, due)
        return self._figures[1]

    def figures_due(self, trainer: pl.Trainer) -> bool:
        """Whether this epoch's validation draws its figures."""
        epoch = trainer.current_epoch
        return self._decide(epoch, trainer.max_epochs is not None and 0 < trainer.max_epochs <= epoch + 1)

    def _dir(self, trainer: pl.Trainer) -> Path:
        return Path(self.dirpath or trainer.default_root_dir)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        self._budget_from = (time.monotonic(), drawing_seconds())
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
            if self.plot and (final or self._decide(int(row["epoch"]), last_epoch=False)):
                from visiontrain.results.curves import plot_results

                with drawing():
                    plot_results(self._rows, out / "results.png", title=out.name)
        except OSError as exc:  # a full disk must not end a training run
            log.warning(f"results.csv/results.png not written: {exc}")
