"""Save ``last.ckpt`` when the job is told to stop (SIGTERM: preemption, ``scancel``, ``scontrol requeue``).

Lightning turns SIGTERM into a ``SIGTERMException`` at the next batch boundary; submitit ignores SIGTERM, so
without this the requeued job would start from the last end-of-epoch checkpoint (or from scratch).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl


class CheckpointOnInterrupt(pl.Callback):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        from pytorch_lightning.trainer.states import TrainerFn

        if type(exception).__name__ != "SIGTERMException" or trainer.state.fn != TrainerFn.FITTING:
            return
        trainer.save_checkpoint(self.path)  # every rank calls it; rank 0 writes
        pl.utilities.rank_zero_info(f"Interrupted: saved {self.path}")
