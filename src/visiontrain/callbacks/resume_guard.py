"""Resume with changed settings: the training horizon may change, what the checkpoint cannot follow is refused.

Lightning restores each LR scheduler's state from the checkpoint, horizon included (``T_max``, a LambdaLR's total
steps), so ``resume=<dir> trainer.max_epochs=<more>`` would train the extra epochs at the end of the old schedule
(lr 0 for a cosine). When ``trainer.max_epochs``/``max_steps`` differ from the checkpoint's, the schedulers are built
again from the model's ``configure_optimizers`` (the new horizon) and stepped to the checkpoint's step, so the run
continues on the curve a run with the new horizon would have had.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytorch_lightning as pl

from visiontrain.errors import ConfigError
from visiontrain.weights.checkpoints import CONFIG_KEY

_HORIZON = ("trainer.max_epochs", "trainer.max_steps")
_MAY_CHANGE_IN_MODEL = ("model.optimizer", "model.scheduler", "model.scheduler_interval")
_CLASS_KEYS = ("num_classes", "classes", "class_names")


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def _changed(old: dict[str, Any], new: dict[str, Any], keys) -> list[str]:
    return [f"{k} ({old.get(k)!r} → {new.get(k)!r})" for k in keys if old.get(k) != new.get(k)]


class ResumeGuard(pl.Callback):
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = _flat(config)
        self._rebuild = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        # Callbacks see the checkpoint only after the weights went in (a layer of another shape: a long
        # RuntimeError); the module's hook runs just before, once its setup has built every layer.
        own_hook = pl_module.on_load_checkpoint

        def check_then_load(checkpoint: dict) -> None:
            self._check(pl_module, checkpoint)
            own_hook(checkpoint)

        pl_module.on_load_checkpoint = check_then_load  # type: ignore[method-assign]

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        pl_module.__dict__.pop("on_load_checkpoint", None)

    def _check(self, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        stored = _flat(checkpoint.get(CONFIG_KEY) or {})
        if not stored:
            return
        now = self.config
        keys = sorted(set(stored) | set(now))
        fixed = _changed(stored, now, [k for k in keys if k in ("model._target_", "data._target_")
                                       or k.rsplit(".", 1)[-1] in _CLASS_KEYS and k.split(".")[0] in ("data", "model")])
        if _shapes_differ(pl_module, checkpoint):
            fixed += _changed(stored, now, [k for k in keys if k.startswith("model.") and k != "model._target_"
                                            and not k.startswith(_MAY_CHANGE_IN_MODEL)]) or ["the model's layers"]
        if now.get("callbacks.exact_resume.enabled") and _mid_epoch(checkpoint):
            fixed += _changed(stored, now, ["data.batch_size"])
        if fixed:
            raise ConfigError(f"resume: cannot change {', '.join(dict.fromkeys(fixed))} (the checkpoint was trained "
                              "with them); start a new run instead")
        self._rebuild = any(stored.get(k) != now.get(k) for k in _HORIZON)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._rebuild:
            self._rebuild = False
            follow_new_horizon(trainer, pl_module)


def _shapes_differ(pl_module: pl.LightningModule, checkpoint: dict) -> bool:
    saved = checkpoint.get("state_dict") or {}
    current = pl_module.state_dict()
    return set(saved) != set(current) or any(tuple(saved[k].shape) != tuple(v.shape) for k, v in current.items()
                                             if hasattr(saved.get(k), "shape"))


def _mid_epoch(checkpoint: dict) -> bool:
    progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_loop.batch_progress", {})
    return bool(progress.get("current", {}).get("completed", 0)) and not progress.get("is_last_batch", True)


def follow_new_horizon(trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
    """Replace each restored scheduler by one built for the current horizon, stepped as often as the restored one."""
    from pytorch_lightning.core.optimizer import _init_optimizers_and_lr_schedulers
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    _, fresh_configs = _init_optimizers_and_lr_schedulers(pl_module)
    for config, fresh_config in zip(trainer.lr_scheduler_configs, fresh_configs):
        old, new = config.scheduler, fresh_config.scheduler
        if isinstance(old, ReduceLROnPlateau) or type(old) is not type(new):
            continue  # no horizon to follow (or not the same schedule)
        with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()": this is a replay
            warnings.simplefilter("ignore")
            while new.last_epoch < old.last_epoch:
                new.step()
        for group, fresh_group in zip(old.optimizer.param_groups, new.optimizer.param_groups):
            group["lr"] = fresh_group["lr"]
        _drive(new, old.optimizer)  # the restored optimizer (its moments) goes on, on the new schedule
        config.scheduler = new


def _drive(scheduler: Any, optimizer: Any) -> None:
    """Point ``scheduler`` at ``optimizer``; chains (SequentialLR, ChainedScheduler) step their inner schedulers,
    which hold the optimizer too."""
    scheduler.optimizer = optimizer
    for inner in getattr(scheduler, "_schedulers", ()):
        _drive(inner, optimizer)
