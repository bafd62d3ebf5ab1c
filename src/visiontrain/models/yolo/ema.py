"""Exponential moving average of the weights (and BN statistics), with YOLOv8's ramped decay
``decay * (1 - exp(-updates / tau))`` so early, fast-changing weights are not frozen in. The bookkeeping is
torch.optim.swa_utils.AveragedModel; only the decay rule is ours."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class RampedEMA:
    """Picklable ``multi_avg_fn`` for AveragedModel (``num_averaged`` counts the updates so far)."""

    def __init__(self, decay: float, tau: float) -> None:
        self.decay, self.tau = decay, tau

    def weight(self, updates: float) -> float:
        return self.decay * (1 - math.exp(-updates / self.tau))

    def __call__(self, averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        d = self.weight(float(num_averaged))
        if averaged[0].is_floating_point():
            torch._foreach_lerp_(averaged, current, 1.0 - d)
        else:  # integer buffers (BN's num_batches_tracked): follow the model
            for a, c in zip(averaged, current):
                a.copy_(c)


def make_ema(model: nn.Module, decay: float = 0.9999, tau: float = 2000.0) -> AveragedModel:
    ema = AveragedModel(model, multi_avg_fn=RampedEMA(decay, tau), use_buffers=True)
    ema.requires_grad_(False)  # not trained: DDP and the optimiser must not see these parameters
    return ema.eval()
