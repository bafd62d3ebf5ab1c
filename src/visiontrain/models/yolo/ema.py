"""Exponential moving average of the weights (and BN statistics), with YOLOv8's ramped decay
``decay * (1 - exp(-updates / tau))`` so early, fast-changing weights are not frozen in. The bookkeeping (the
averaged copy, ``n_averaged``, checkpoints) is torch.optim.swa_utils.AveragedModel; only the decay rule and a
faster update are ours."""

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


def _slots(module: nn.Module) -> list[tuple[dict, str]]:
    """(owner dict, name) of every parameter then every buffer, in AveragedModel's order (use_buffers=True).
    Looked up at each update, so tensors replaced by a device move or a checkpoint load are still found."""
    params = [(m._parameters, n) for m in module.modules() for n, p in m._parameters.items() if p is not None]
    buffers = [(m._buffers, n) for m in module.modules() for n, b in m._buffers.items() if b is not None]
    return params + buffers


class RampedAveragedModel(AveragedModel):
    """AveragedModel whose update costs one ``_foreach_lerp_``: the stock update walks both modules' parameters
    and buffers through ``named_modules`` on every call (YOLO-n on one CPU thread: 2.3 → 0.9 ms per update, of a
    ~115 ms training step). Same state, same arithmetic as ``RampedEMA``."""

    def update_parameters(self, model: nn.Module) -> None:
        key = id(model)
        if getattr(self, "_slot_cache", (None,))[0] != key:
            mine, theirs = _slots(self.module), _slots(model)
            floating = [owner[name].is_floating_point() for owner, name in mine]
            pick = lambda slots, want: [s for s, f in zip(slots, floating) if f == want]  # noqa: E731
            self._slot_cache = (key, pick(mine, True), pick(theirs, True), pick(mine, False), pick(theirs, False))
        _, mine, theirs, mine_int, theirs_int = self._slot_cache
        averaged = [owner[name] for owner, name in mine]
        current = [owner[name].detach() for owner, name in theirs]
        with torch.no_grad():
            if int(self.n_averaged) == 0:
                torch._foreach_copy_(averaged, current)
            else:
                torch._foreach_lerp_(averaged, current, 1.0 - self.multi_avg_fn.weight(float(self.n_averaged)))
            for (a, na), (c, nc) in zip(mine_int, theirs_int):  # integer buffers (BN's num_batches_tracked)
                a[na].copy_(c[nc])
        self.n_averaged += 1


def make_ema(model: nn.Module, decay: float = 0.9999, tau: float = 2000.0) -> AveragedModel:
    ema = RampedAveragedModel(model, multi_avg_fn=RampedEMA(decay, tau), use_buffers=True)
    ema.requires_grad_(False)  # not trained: DDP and the optimiser must not see these parameters
    return ema.eval()
