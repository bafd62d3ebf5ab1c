"""Store the resolved run config in every checkpoint, so `vt-eval` can rebuild the data pipeline it was trained with."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from visiontrain.weights.checkpoints import CONFIG_KEY


class ConfigInCheckpoint(pl.Callback):
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config  # plain containers only: checkpoints are loaded with weights_only=True

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        checkpoint[CONFIG_KEY] = self.config
