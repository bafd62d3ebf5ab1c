"""Lightning's ModelCheckpoint, with ``last.ckpt`` always the newest epoch's state, written once per epoch.

- Lightning writes ``last.ckpt`` only when it has just written a top-k file: after an epoch that does not improve the
  monitored metric, ``last.ckpt`` stayed the best epoch's, so ``vt-eval``/``vt-predict`` of ``last.ckpt`` scored the
  best model and a job killed without a signal resumed from the best epoch, repeating the epochs after it. Here every
  checkpointing epoch (``every_n_epochs``) writes it.
- When the top-k file has just been written at this step, ``last.ckpt`` becomes a hard link to it instead of a
  second write of the same state (weights and optimiser state: benchmarks/README.md has the cost).

Lightning's own ``save_last="link"`` is not this: it links ``last.ckpt`` to the newest top-k file even when that is an
older epoch's, so a resume from it would repeat epochs. A hard link, unlike a symlink, outlives the top-k file when a
better one replaces it; and every later write of either name (Lightning's saves, the interrupt checkpoint) puts a new
file in place by rename, so it never changes the other name's content (tested).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from weakref import proxy

import pytorch_lightning as pl
from fsspec.implementations.local import LocalFileSystem


class ModelCheckpoint(pl.callbacks.ModelCheckpoint):
    _topk_written_now: str | None = None
    _last_path_before_topk: str = ""

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_not_saved(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_not_saved(trainer)

    def _save_last_if_not_saved(self, trainer: pl.Trainer) -> None:
        due = self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0
        if self.save_last and due and not self._should_skip_saving_checkpoint(trainer):  # (skips a step saved already)
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def _save_topk_checkpoint(self, trainer: pl.Trainer, monitor_candidates: dict) -> None:
        written_before = self._last_checkpoint_saved
        self._last_path_before_topk = self.last_model_path
        last = self._plain_last_path(trainer, monitor_candidates)
        if last:  # the file written now may become last.ckpt too: it must record last.ckpt's path, as that save would
            self.last_model_path = last
        super()._save_topk_checkpoint(trainer, monitor_candidates)
        written = self._last_checkpoint_saved
        self._topk_written_now = written if written != written_before and written != last else None
        if self._topk_written_now is None:
            self.last_model_path = self._last_path_before_topk

    def _save_last_checkpoint(self, trainer: pl.Trainer, monitor_candidates: dict) -> None:
        source, self._topk_written_now = self._topk_written_now, None
        if not source or self._last_global_step_saved != trainer.global_step \
                or self.last_model_path != self.format_checkpoint_name(monitor_candidates, self.CHECKPOINT_NAME_LAST):
            super()._save_last_checkpoint(trainer, monitor_candidates)
            return
        target, previous = self.last_model_path, self._last_path_before_topk
        if trainer.is_global_zero:
            _link_in_place(source, target)
            for logger in trainer.loggers:
                logger.after_save_checkpoint(proxy(self))
        trainer.strategy.barrier("ModelCheckpoint.link_last")
        self._last_checkpoint_saved = target
        if previous and self._should_remove_checkpoint(trainer, previous, target):
            self._remove_checkpoint(trainer, previous)

    def _plain_last_path(self, trainer: pl.Trainer, monitor_candidates: dict) -> str | None:
        """The path Lightning's last save will write, where it is the plain ``last`` name on a local disk (no version
        suffix: that case, and remote storage, keep Lightning's own second write)."""
        if self.save_last is not True or not isinstance(self._fs, LocalFileSystem):
            return None
        path = self.format_checkpoint_name(monitor_candidates, self.CHECKPOINT_NAME_LAST)
        if self._enable_version_counter and path != self.last_model_path and self.file_exists(path, trainer):
            return None
        return path


def _link_in_place(source: str, target: str) -> None:
    """``target`` becomes a second name of ``source``'s file, swapped in by rename (never a half-written target)."""
    staged = f"{target}.staged"
    with contextlib.suppress(FileNotFoundError):
        os.remove(staged)
    try:
        os.link(source, staged)
    except OSError:  # a filesystem without hard links: a copy, as costly as the write it replaces
        shutil.copyfile(source, staged)
    os.replace(staged, target)
