"""Test callback: at optimizer step ``$VT_STALL_AT_STEP`` (after that step's checkpoints are written) write
``<run dir>/stalled`` and wait for a signal, so a test can kill the run at a known point mid-epoch; at step
``$VT_FAIL_AT_STEP`` raise instead (a run that fails after it has logged metrics). A file ``<run dir>/release`` lets
the stalled run go on (a multi-node test releases the surviving node after killing the other)."""

import os
import time
from pathlib import Path

import pytorch_lightning as pl


class StallAtStep(pl.Callback):
    def __init__(self, run_dir: str) -> None:
        self.marker, self.release = Path(run_dir) / "stalled", Path(run_dir) / "release"
        self.stall_at = int(os.environ.get("VT_STALL_AT_STEP", "-1"))
        self.fail_at = int(os.environ.get("VT_FAIL_AT_STEP", "-1"))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.fail_at:
            raise RuntimeError(f"test failure at step {self.fail_at}")
        if trainer.global_step == self.stall_at:
            self.marker.write_text(f"{trainer.current_epoch} {batch_idx}")
            while not self.release.exists():  # until a signal ends it, or the test lets it go on
                time.sleep(0.2)
