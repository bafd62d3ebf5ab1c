"""How DataLoader worker processes start: ``fork`` (Linux default: fast, shares the parent's memory) or ``spawn``
(a fresh interpreter per worker: what macOS/Windows use, safe with threads and CUDA in the parent)."""

from __future__ import annotations

from typing import Literal

import pytorch_lightning as pl


class WorkerStartMethod(pl.Callback):
    def __init__(self, method: Literal["fork", "spawn", "forkserver"] | None = None) -> None:
        self.method = method

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.method is None:
            return
        import torch.multiprocessing as mp

        # DataLoaders without their own multiprocessing_context start workers with the default method
        mp.set_start_method(self.method, force=True)
