"""The model families: per family its module and datamodule classes, default metric, task name, the metric names it
logs and what vt-predict / vt-export use. Entry points, config validation and the contract test read this table;
a family (a user's own too) joins it with ``register(Family(...))`` at import time of its module.

Classes are named by import path: reading the table imports nothing heavy, and subclasses of a registered class
belong to its family (the most specific registration wins: ObjectLocalizer is an ImageClassifier too).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

STAGES = ("train", "val", "test")


@dataclass(frozen=True)
class Family:
    name: str
    module: str                       # import path of the LightningModule class (subclasses count)
    datamodule: str                   # import path of the datamodule class its batches come from (subclasses count)
    metric: str                       # default optimized_metric
    mode: Literal["min", "max"]
    task_name: str                    # default task_name (runs land in outputs/<task_name>/)
    metrics: tuple[str, ...]          # names it logs; fnmatch patterns ('val/ap/*'); '{stage}' = train, val, test
    data_examples: str = ""           # data configs that fit, for error messages
    # data classes whose config is turned into ``datamodule`` (same keys, more options): model=yolo takes any
    # detection data config and gets the YOLO input pipeline
    adopts: tuple[str, ...] = ()
    # model keys that, when set, also set the data key of that name (model=yolo model.img_size=640 sizes the pipeline)
    sizes_data: tuple[str, ...] = ()
    predict: Literal["files", "stored", "none"] = "files"  # files: prediction_writer(); stored: the checkpoint's
    export: Literal["model", "custom", "none"] = "model"   # model: export_model(); custom: export_to()
    # where vt-export finds the side of its square sample batch: 'model.<hparam>' or 'data.<key>' of the checkpoint
    image_size: tuple[str, ...] = ("data.image_size",)

    def logged(self) -> list[str]:
        """The metric names (patterns) with ``{stage}`` expanded."""
        out: list[str] = []
        for name in self.metrics:
            out += [name.format(stage=s) for s in STAGES] if "{stage}" in name else [name]
        return list(dict.fromkeys(out))

    def logs(self, metric: str) -> bool:
        """Whether ``metric`` is one of its names (Lightning's ``_step`` / ``_epoch`` twins of a name count, and so
        does ``best/<name>``: the best value of the monitored metric that run_job adds to metrics.json)."""
        metric = metric.removeprefix("best/")
        names = {metric, metric.removesuffix("_step"), metric.removesuffix("_epoch")}
        return any(fnmatch.fnmatchcase(n, pattern) for n in names for pattern in self.logged())


_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add (or replace, by name) a family. Call it at import of the module that defines the class."""
    _FAMILIES[family.name] = family
    return family


def families() -> list[Family]:
    _ensure_builtin()
    return list(_FAMILIES.values())


def get_family(name: str) -> Family:
    _ensure_builtin()
    return _FAMILIES[name]


def _ensure_builtin() -> None:
    from visiontrain.families import builtin  # noqa: F401  (registers the shipped families once)


def _import(path: str) -> Any:
    from hydra.utils import get_object

    return get_object(path)


def _most_specific(cls: type, attr: str) -> Family | None:
    matches: list[tuple[int, Family]] = []
    for fam in families():
        try:
            base = _import(getattr(fam, attr))
        except Exception:  # a family whose optional dependency is missing cannot match anything
            continue
        if isinstance(base, type) and issubclass(cls, base):
            matches.append((len(base.__mro__), fam))
    return max(matches, key=lambda m: m[0])[1] if matches else None


def family_of_target(target: str) -> Family | None:
    """The family of the module class named ``target``: a registered path itself imports nothing (config errors are
    answered before torch is loaded); any other class is imported and matched as ``family_of_module`` does."""
    exact = [fam for fam in families() if fam.module == target]
    if exact:
        return exact[0]
    cls = _import(target)
    return family_of_module(cls) if isinstance(cls, type) else None


def family_of_module(cls: type) -> Family | None:
    """The family of a LightningModule class (None: not registered, e.g. a user's class without ``register``)."""
    return _most_specific(cls, "module")


def family_of_datamodule(cls: type) -> Family | None:
    """The family whose datamodule class ``cls`` is (or subclasses); the most specific one."""
    return _most_specific(cls, "datamodule")


def takes_data(family: Family, data_cls: type) -> bool:
    """Whether ``family``'s module trains on ``data_cls`` batches (directly, or after adopting the data config)."""
    return any(issubclass(data_cls, _import(path)) for path in (family.datamodule, *family.adopts))


def check_fits(model_cls: type, data_cls: type, key: str = "data") -> None:
    """ConfigError unless ``model_cls``'s family trains on ``data_cls`` (unregistered modules: not checked)."""
    from visiontrain.errors import ConfigError

    family = family_of_module(model_cls)
    if family is None or takes_data(family, data_cls):
        return
    wanted = _import(family.datamodule).__name__
    raise ConfigError(f"{key}: {model_cls.__name__} (model) trains on a {wanted} ({family.data_examples}), but "
                      f"data is a {data_cls.__name__}")


def stored_image_size(family: Family | None, hparams: Any, stored_data: dict[str, Any]) -> int | None:
    """The image side vt-export traces with, from the checkpoint (its module's hparams, its data config)."""
    keys = family.image_size if family is not None else ("data.image_size",)
    for key in keys:
        where, _, name = key.partition(".")
        value = (hparams or {}).get(name) if where == "model" else stored_data.get(name)
        if value:
            return int(value)
    return None


__all__ = ["Family", "register", "families", "get_family", "family_of_target", "family_of_module",
           "family_of_datamodule", "takes_data", "check_fits", "stored_image_size"]
