"""Resume mid-epoch to the same result as a run that was never stopped (deterministic mode; one process or DDP).

Lightning restores weights, optimizer, schedulers and loop counters, but a resumed epoch would start its loader from
the first batch with a new shuffle, and the RNGs (dropout, RoI sampling) would start from the seed. The datamodule's
``exact_resume`` setting makes its training loader resumable (``visiontrain.data.resumable_loader.resumable_for``;
the data configs follow ``callbacks.exact_resume.enabled``); this callback stores the global RNG states in every
checkpoint, putting them back just before the first resumed training step. Under DDP each rank's states are gathered
into the checkpoint (rank 0 writes it) and each rank takes its own back; a resume with another number of processes
keeps the loader position but not the RNG streams (a warning says so).

Not covered: strategies other than DDP (FSDP, DeepSpeed); Lightning's running epoch means (e.g. ``train/loss`` per
epoch) of the interrupted epoch cover the batches after the resume only.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.strategies import DDPStrategy
from pytorch_lightning.utilities import rank_zero_warn


RNG_KEY = "visiontrain_rng"


def rng_states() -> dict[str, Any]:
    """Plain containers and tensors only: checkpoints are loaded with ``weights_only=True``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, state, gauss_next = random.getstate()
    out: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": [kind, torch.from_numpy(keys.astype(np.int64)),
                                                                    pos, has_gauss, gauss],
                           "python": [version, list(state), gauss_next]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, state, gauss_next = states["python"]
    random.setstate((version, tuple(state), gauss_next))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class ExactResume(pl.Callback):
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._rng_to_restore: dict[str, Any] | None = None

    def _active(self, trainer: pl.Trainer) -> bool:
        return self.enabled and (trainer.world_size == 1 or isinstance(trainer.strategy, DDPStrategy))

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        if stage != "fit" or not self._active(trainer) or trainer.overfit_batches or datamodule is None:
            return
        if not getattr(datamodule, "exact_resume", False):  # the loader's order is the datamodule's setting
            rank_zero_warn(f"exact resume: {type(datamodule).__name__} has no exact_resume setting on, so a mid-epoch "
                           "resume starts that epoch's data order afresh (set data.exact_resume=true on a "
                           "VisionDataModule, or build the training loader with resumable_for(); docs/extending.md)")

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        # The first step after a resume: what it draws (dropout, RoI sampling) continues the stopped run's stream.
        # Loading the batch drew nothing from it (SeededSamples), so here is as good as right after the save.
        if self._rng_to_restore is not None:
            set_rng_states(self._rng_to_restore)
            self._rng_to_restore = None

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        # every rank runs this (Lightning's save_checkpoint is collective; rank 0 writes the file)
        if not self._active(trainer):
            return
        states = rng_states()
        if trainer.world_size > 1:
            gathered: list[Any] = [None] * trainer.world_size
            torch.distributed.all_gather_object(gathered, states)
            states = {"ranks": gathered}
        checkpoint[RNG_KEY] = states

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        if not self._active(trainer) or trainer.state.fn != "fit":
            return
        states = checkpoint.get(RNG_KEY)
        ranks = states.get("ranks") if isinstance(states, dict) else None
        if ranks is not None or (states is not None and trainer.world_size > 1):
            if ranks is None or len(ranks) != trainer.world_size:
                rank_zero_warn(f"exact resume: the checkpoint holds RNG states of {len(ranks) if ranks else 1} "
                               f"process(es), this run has {trainer.world_size}: the data position is restored, the "
                               "random streams (dropout, sampling) start afresh")
                return
            states = ranks[trainer.global_rank]
        self._rng_to_restore = states
