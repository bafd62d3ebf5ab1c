"""Optimiser and scheduler from config (``_partial_`` nodes), shared by every task family."""

from __future__ import annotations

from typing import Any, Callable

import torch


def build_optimizers(param_groups: list[dict[str, Any]], optimizer: Callable | None, scheduler: Callable | None,
                     monitor: str | None = None, interval: str = "epoch"):
    """``optimizer``/``scheduler`` are partials made by Hydra (``_partial_: true``). Groups may carry ``lr_scale``:
    their learning rate is the optimiser's base lr times that factor."""
    optimizer = optimizer or torch.optim.AdamW
    probe = optimizer([torch.nn.Parameter(torch.zeros(1))])
    base_lr = probe.defaults["lr"]
    groups = []
    for group in param_groups:
        group = dict(group)
        scale = group.pop("lr_scale", 1.0)
        groups.append({**group, "lr": base_lr * scale})
    opt = optimizer(groups)
    if scheduler is None:
        return opt
    sched: dict[str, Any] = {"scheduler": scheduler(opt), "interval": interval}
    if monitor:
        sched["monitor"] = monitor
    return {"optimizer": opt, "lr_scheduler": sched}
