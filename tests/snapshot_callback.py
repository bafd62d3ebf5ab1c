"""Test callback: fingerprints of the backbone (parameters and BatchNorm buffers) at every epoch start and end,
and the optimiser's param groups, written per rank to ``<out_dir>/snapshots_rank<r>.json``."""

import hashlib
import json
from pathlib import Path

import pytorch_lightning as pl
import torch


def fingerprint(module: torch.nn.Module) -> str:
    digest = hashlib.sha1()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class BackboneSnapshots(pl.Callback):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.records: list[dict] = []

    def _record(self, trainer, pl_module, when: str) -> None:
        opt = trainer.optimizers[0]
        self.records.append({
            "epoch": trainer.current_epoch, "when": when,
            "backbone": fingerprint(pl_module.backbone), "head": fingerprint(pl_module.head),
            "requires_grad": all(p.requires_grad for p in pl_module.backbone.parameters()),
            "groups": [{"name": g.get("name"), "lr": g["lr"], "n": len(g["params"])} for g in opt.param_groups],
        })

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._record(trainer, pl_module, "start")

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._record(trainer, pl_module, "end")
        self._dump(trainer)

    def _dump(self, trainer) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"snapshots_rank{trainer.global_rank}.json").write_text(json.dumps(self.records))


class StopAfterEpoch(pl.Callback):
    """Ends fit after the given epoch, as if the job had been interrupted there."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch >= self.epoch:
            trainer.should_stop = True
