"""Optimiser and scheduler from config (``_partial_`` nodes), shared by every task family."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import torch


def build_optimizers(param_groups: list[dict[str, Any]], optimizer: Callable | None, scheduler: Callable | None,
                     monitor: str | None = None, interval: str = "epoch"):
    """``optimizer``/``scheduler`` are partials made by Hydra (``_partial_: true``). Groups may carry ``lr_scale``:
    their learning rate is the optimiser's base lr times that factor. The optimiser runs its fused implementation
    where it has one and the config chose none (see ``fused_where_available``)."""
    optimizer = optimizer or torch.optim.AdamW
    probe = optimizer([torch.nn.Parameter(torch.zeros(1))])
    base_lr = probe.defaults["lr"]
    groups = []
    for group in param_groups:
        group = dict(group)
        scale = group.pop("lr_scale", 1.0)
        groups.append({**group, "lr": base_lr * scale})
    opt = fused_where_available(optimizer, groups)
    if scheduler is None:
        return opt
    sched: dict[str, Any] = {"scheduler": scheduler(opt), "interval": interval}
    if monitor:
        sched["monitor"] = monitor
    return {"optimizer": opt, "lr_scheduler": sched}


def fused_where_available(optimizer: Callable, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    """Build with ``fused=True`` when the optimiser class takes it (AdamW, Adam, SGD, Adagrad) and the config set
    neither ``fused`` nor ``foreach``: the same update, one kernel per parameter tensor instead of a chain of
    elementwise ops (torch's CPU default; benchmarks/README.md has the step cost). Parameters on a device without a
    fused kernel get the optimiser's default."""
    chosen = optimizer.keywords if isinstance(optimizer, functools.partial) else {}
    target = optimizer.func if isinstance(optimizer, functools.partial) else optimizer
    if "fused" in chosen or "foreach" in chosen or not _takes_fused(target):
        return optimizer(groups)
    try:
        return optimizer(groups, fused=True)
    except RuntimeError:  # "fused=True requires all the params to be floating point Tensors of supported devices"
        return optimizer(groups)


def _takes_fused(target: Any) -> bool:
    try:
        return "fused" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
