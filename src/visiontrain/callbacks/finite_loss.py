"""Stop at the first non-finite training loss with a message that says where, instead of training on NaNs."""

from __future__ import annotations

import math

import pytorch_lightning as pl

from visiontrain.errors import TrainingError


class FiniteLossGuard(pl.Callback):
    """Checks the loss every ``every_n_steps`` steps (a check costs one device sync). The checkpoints written so far
    (``last.ckpt`` of the last finished epoch) stay as they are."""

    def __init__(self, every_n_steps: int = 1) -> None:
        self.every_n_steps = max(1, every_n_steps)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        if trainer.global_step % self.every_n_steps:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        value = float(loss.detach().float().item())
        if math.isfinite(value):
            return
        lrs = ", ".join(f"{g['lr']:.3g}" for opt in trainer.optimizers for g in opt.param_groups)
        raise TrainingError(f"training loss is {value} at step {trainer.global_step} (epoch "
                                 f"{trainer.current_epoch}, batch {batch_idx}, learning rate {lrs}); "
                                 "lower model.optimizer.lr or set trainer.gradient_clip_val")
