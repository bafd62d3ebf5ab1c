"""The base LightningModule of the families: what each family module otherwise copies.

- classes from the data: ``take_classes(stage)`` builds the module for the datamodule's ``class_names`` when the
  config named none (``build(names)``) and refuses data whose classes differ from a built module's;
- ``validation_step`` / ``test_step`` and their epoch ends as one ``eval_step(batch, batch_idx, stage)`` and one
  ``eval_epoch_end(stage)``;
- ``save_plain_hyperparameters()``: the ``__init__`` arguments as plain data (OmegaConf containers converted:
  checkpoints are read with ``weights_only=True``), the optimiser and scheduler partials left out;
- optimiser and scheduler from the config's partials (``optimizer``, ``scheduler``) over ``param_groups()``;
- ``log_images_now(batch_idx, stage)``: the first batch, images wanted, not the sanity check, figures due
  (``results.figures.figures_due``);
- ``predict_images(batch)``: the images of a predict batch (``(images, index)`` from vt-predict, or a tensor);
- ``log_train_loss(loss, batch_size, terms)``: ``train/loss`` (``_step``, ``_epoch``) and the loss terms as Lightning's
  per-step ``self.log`` would log them, without its cost on every step (``train_loss_log.py``), from
  ``on_train_batch_end`` (a family that overrides it calls ``super()``); a family's own epoch-end work goes in
  ``train_epoch_end()``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import pytorch_lightning as pl

from visiontrain.errors import ConfigError, DataError
from visiontrain.families.train_loss_log import TrainLossLog


class VisionModule(pl.LightningModule):
    class_names: list[str]

    def __init__(self, optimizer: Callable | None = None, scheduler: Callable | None = None) -> None:
        super().__init__()
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self._train_loss_log = TrainLossLog()

    def save_plain_hyperparameters(self, ignore: tuple[str, ...] = ()) -> None:
        """``save_hyperparameters`` of the calling ``__init__``, its values made plain data."""
        from omegaconf import DictConfig, ListConfig, OmegaConf

        self.save_hyperparameters(ignore=["optimizer", "scheduler", *ignore], frame=inspect.currentframe().f_back)
        for key, value in list(self.hparams.items()):
            if isinstance(value, (DictConfig, ListConfig)):
                self.hparams[key] = OmegaConf.to_container(value, resolve=True)

    # --- classes from the data -----------------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the class-dependent parts exist (set up by ``build``)."""
        return getattr(self, "class_names", None) is not None

    def build(self, class_names: list[str]) -> None:
        raise NotImplementedError(f"{type(self).__name__}.build(class_names)")

    def data_class_names(self) -> list[str] | None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        names = getattr(dm, "class_names", None)
        return [str(c) for c in names] if names is not None else None

    def take_classes(self, stage: str) -> None:
        data_classes = self.data_class_names()
        if not self.built:
            if data_classes is None:
                raise ConfigError("model.class_names: not set and the datamodule has no class_names")
            self.build(data_classes)
        elif data_classes is not None and data_classes != list(self.class_names):
            raise DataError(f"the data's classes {data_classes} differ from the model's {self.class_names}")

    # --- training ------------------------------------------------------------------------------------------------
    def log_train_loss(self, loss: Any, batch_size: int, terms: dict[str, Any] | None = None,
                       sync_dist: bool = False) -> None:
        """Log this step's loss as ``train/loss`` (``_step`` / ``_epoch``) and ``terms`` (full names) as epoch means."""
        if self._trainer is not None:
            self._train_loss_log.add(loss, batch_size, terms, sync_dist)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._train_loss_log.batch_end(self)

    def on_train_epoch_end(self) -> None:
        self._train_loss_log.flush(self)  # pending only where an epoch ended unseen by batch_end (nothing lost)
        self.train_epoch_end()

    def train_epoch_end(self) -> None:
        """A family's own work at the end of a training epoch (nothing by default)."""

    # --- evaluation ----------------------------------------------------------------------------------------------
    def eval_step(self, batch: Any, batch_idx: int, stage: str) -> None:
        raise NotImplementedError(f"{type(self).__name__}.eval_step(batch, batch_idx, stage)")

    def eval_epoch_end(self, stage: str) -> None:
        """Metrics computed over the epoch (nothing by default: metrics logged as objects reduce themselves)."""

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.eval_step(batch, batch_idx, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.eval_step(batch, batch_idx, "test")

    def on_validation_epoch_end(self) -> None:
        self.eval_epoch_end("val")

    def on_test_epoch_end(self) -> None:
        self.eval_epoch_end("test")

    def log_images_now(self, batch_idx: int, stage: str = "val") -> bool:
        if batch_idx != 0 or not int(self.hparams.get("log_images", 0) or 0) or self.trainer.sanity_checking:
            return False  # every evaluation step asks: the cheap answers first
        from visiontrain.results.figures import figures_due

        return figures_due(self.trainer, stage)

    @staticmethod
    def predict_images(batch: Any) -> Any:
        return batch[0] if isinstance(batch, (list, tuple)) else batch

    # --- optimisation --------------------------------------------------------------------------------------------
    def param_groups(self) -> list[dict[str, Any]]:
        """Parameter groups; a group may carry ``lr_scale`` (its lr is the optimiser's times that) and ``name``."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def configure_optimizers(self):
        from visiontrain.models.optim import build_optimizers

        return build_optimizers(self.param_groups(), self.optimizer_factory, self.scheduler_factory,
                                interval=self.hparams.get("scheduler_interval", "epoch"))


__all__ = ["VisionModule"]
