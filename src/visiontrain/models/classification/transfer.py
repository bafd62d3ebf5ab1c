"""Transfer-learning modes and the freeze/unfreeze schedule.

Why not Lightning's ``BackboneFinetuning``: it changes ``requires_grad`` and adds optimiser param groups as training
goes, which breaks under DDP (parameters frozen when DDP wraps the model are never synchronised afterwards) and on
resume (it re-freezes modules that were already unfrozen). Here the optimiser holds both groups from the start and
the phase is a pure function of the epoch, re-applied at every epoch start, so a resumed run lands in the right
phase with the same param groups; under DDP the model is wrapped with every parameter registered.

What "frozen" means: parameters get no gradient and BatchNorm layers stay in eval mode, so their running statistics
do not move either: a frozen backbone is bit-for-bit the pretrained one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

Mode = Literal["apply", "finetune", "warmup", "frozen", "scratch"]


@dataclass
class TransferConfig:
    mode: Mode = "scratch"
    warmup_epochs: int = 1  # warmup: epochs with the backbone frozen before everything is fine-tuned
    backbone_lr_ratio: float = 1.0  # backbone lr = ratio x head lr (finetune, and warmup after unfreezing)
    freeze_batchnorm: bool = True  # frozen backbone: BatchNorm running statistics stay fixed too

    def __post_init__(self) -> None:
        from typing import get_args

        from visiontrain.errors import ConfigError

        if self.mode not in get_args(Mode):
            raise ConfigError(f"model.transfer.mode: '{self.mode}' is not one of {', '.join(get_args(Mode))}")


def backbone_frozen(cfg: TransferConfig, epoch: int) -> bool:
    return cfg.mode in ("frozen", "apply") or (cfg.mode == "warmup" and epoch < cfg.warmup_epochs)


def set_frozen(backbone: nn.Module, frozen: bool) -> None:
    for p in backbone.parameters():
        p.requires_grad_(not frozen)


def batchnorm_to_eval(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
