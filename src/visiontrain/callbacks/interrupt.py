"""Save ``last.ckpt`` when the job is told to stop (SIGTERM: preemption, ``scancel``, ``scontrol requeue``; SIGINT:
Ctrl+C), and hand the metrics logged so far to the failed run's ``metrics.json``.

Lightning turns SIGTERM into a ``SIGTERMException`` at the next batch boundary and SIGINT into a
``KeyboardInterrupt`` (then ``SystemExit(1)``); submitit ignores SIGTERM, so without this the requeued job would
start from the last end-of-epoch checkpoint (or from scratch).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from visiontrain.run.stop_reason import metrics_so_far, stop_signal  # noqa: F401  (re-exported)


class CheckpointOnInterrupt(pl.Callback):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        from pytorch_lightning.trainer.states import TrainerFn

        try:  # the exception carries them to run_job, which writes metrics.json
            exception.metrics_so_far = dict(trainer.callback_metrics)  # type: ignore[attr-defined]
        except AttributeError:  # an exception type without a __dict__
            pass
        if stop_signal(exception) is None or trainer.state.fn != TrainerFn.FITTING:
            return
        trainer.save_checkpoint(self.path)  # every rank calls it; rank 0 writes
        pl.utilities.rank_zero_info(f"Interrupted: saved {self.path}")
