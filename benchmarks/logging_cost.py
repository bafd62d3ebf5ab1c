"""Per-step cost of logging the training loss inside a real fit, on a bare module whose step is almost free:
Lightning's ``self.log("train/loss", on_step=True, on_epoch=True, prog_bar=True)`` against
``VisionModule.log_train_loss`` (what every family uses; its values are logged from ``on_train_batch_end``, timed
with it), alternating fits of ``--steps`` steps, timed inside the calls (ms per step; median of the fits)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from _common import alternate, describe, median, parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from visiontrain.families.base_module import VisionModule

p = parser(__doc__)
p.add_argument("--steps", type=int, default=400)
args = p.parse_args()
X, Y = torch.randn(64 * args.steps, 8), torch.randint(0, 2, (64 * args.steps,))
WARM = 10


class Bare(VisionModule):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how, self.lin, self.times = how, torch.nn.Linear(8, 2), []

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.lin(x), y)
        start = time.perf_counter()
        if self.how == "self.log":
            self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(y))
        else:
            self.log_train_loss(loss, len(y))
        self.times.append(time.perf_counter() - start)
        return loss

    def on_train_batch_end(self, *args) -> None:  # where log_train_loss's values are logged
        start = time.perf_counter()
        super().on_train_batch_end(*args)
        self.times[-1] += time.perf_counter() - start

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def side(how: str):
    def run() -> float:
        module = Bare(how)
        trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                             enable_checkpointing=False, accelerator="cpu", log_every_n_steps=50)
        trainer.fit(module, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=64))
        return 1000 * sum(module.times[WARM:]) / len(module.times[WARM:])

    return run


print(f"device: {describe('cpu')}")
ms = alternate({"self.log": side("self.log"), "log_train_loss": side("log_train_loss")}, args.repeats)
a, b = median(ms["self.log"]), median(ms["log_train_loss"])
print(f"train loss logging, {args.steps} steps per fit (log_every_n_steps=50): self.log {a:.3f} ms/step, "
      f"log_train_loss {b:.3f} ms/step ({a / b:.1f}x less)")
