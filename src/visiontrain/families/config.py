"""What the model's family adds to a run config before validation: the default ``optimized_metric`` / mode when
the user set none, the family's datamodule for data configs it adopts (model=yolo + data=coco → the YOLO input
pipeline), and a one-line error when ``optimized_metric`` is a name the family never logs."""

from __future__ import annotations

import logging

from omegaconf import DictConfig, OmegaConf, open_dict

from visiontrain.errors import ConfigError
from visiontrain.families.registry import Family, _import, family_of_target

log = logging.getLogger("visiontrain")


def _class_at(cfg: DictConfig, key: str) -> type | None:
    node = OmegaConf.select(cfg, key, default=None)
    if not isinstance(node, DictConfig) or "_target_" not in node:
        return None
    try:
        obj = _import(str(node._target_))
    except Exception:  # validation names the unimportable target
        return None
    return obj if isinstance(obj, type) else None


def model_family(cfg: DictConfig) -> Family | None:
    node = OmegaConf.select(cfg, "model", default=None)
    if not isinstance(node, DictConfig) or "_target_" not in node:
        return None
    try:
        return family_of_target(str(node._target_))
    except Exception:  # validation names the unimportable target
        return None


def apply_family_defaults(cfg: DictConfig) -> None:
    """Fill in what the family decides; leaves a config without ``model`` (eval, predict, export) alone."""
    family = model_family(cfg)
    if family is None:
        return
    with open_dict(cfg):
        if "optimized_metric" in cfg and cfg.optimized_metric is None:
            cfg.optimized_metric = family.metric
            if cfg.get("optimized_mode") is None:
                cfg.optimized_mode = family.mode
        elif "optimized_mode" in cfg and cfg.optimized_mode is None:
            cfg.optimized_mode = family.mode
        _adopt_data(cfg, family)


def _adopt_data(cfg: DictConfig, family: Family) -> None:
    if not isinstance(cfg.get("data"), DictConfig):
        return
    adopt_data(cfg.data, family)
    if family.sizes_data and cfg.data.get("_target_") == family.datamodule:
        with open_dict(cfg.data):
            for key in family.sizes_data:
                if cfg.model.get(key) is not None:
                    cfg.data[key] = cfg.model[key]


def adopt_data(data: DictConfig, family: Family | None) -> None:
    """A data config of a class the family adopts gets the family's datamodule (same keys plus its own options, at
    their defaults): model=yolo with data=coco trains through the YOLO input pipeline."""
    if family is None or not family.adopts or "_target_" not in data:  # (before any import: most families adopt none)
        return
    if str(data._target_) == family.datamodule:  # already the family's: no import (a config error stays fast)
        return
    data_cls = _class_at(OmegaConf.create({"data": data}), "data")
    if data_cls is None or issubclass(data_cls, _import(family.datamodule)):
        return
    if any(issubclass(data_cls, _import(path)) for path in family.adopts):
        with open_dict(data):
            data._target_ = family.datamodule


def check_optimized_metric(cfg: DictConfig) -> None:
    """``optimized_metric`` must be a name the model's family logs (early stopping and checkpoints monitor it)."""
    family = model_family(cfg)
    metric = OmegaConf.select(cfg, "optimized_metric", default=None)
    if family is None or not isinstance(metric, str) or family.logs(metric):
        return
    names = ", ".join(n for n in family.logged() if n.startswith("val/")) or ", ".join(family.logged())
    raise ConfigError(f"optimized_metric: {family.name} models never log {metric!r} (they log {names}; "
                      f"default {family.metric}); set optimized_metric=… or leave it null")


def _family_of_target(target: str) -> Family:
    family = family_of_target(str(target))
    if family is None:
        raise ConfigError(f"optimized_metric: {target} belongs to no registered family, so there is no default; set "
                          "optimized_metric=<a metric it logs> and optimized_mode=max|min (or register the family: "
                          "docs/extending.md)")
    return family


def default_metric(target: str) -> str:
    """Resolver ``vt_family_metric``: the default ``optimized_metric`` of the family of the model ``target``."""
    return _family_of_target(target).metric


def default_mode(target: str) -> str:
    """Resolver ``vt_family_mode``: that family's ``optimized_mode``."""
    return _family_of_target(target).mode


# command-line choices that make a run other than the default composition (plain vt-train: the quickstart)
_CHOOSING_GROUPS = ("model", "data", "experiment")


def _chosen_groups() -> tuple[set[str], dict] | None:
    """The config groups chosen on the command line and Hydra's group choices (None: not composed by Hydra)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
    except Exception:
        return None
    keys = {str(o).lstrip("+~").split("=", 1)[0] for o in hc.overrides.task}
    return keys, dict(hc.runtime.choices)


def default_task_name(target: str, default: str) -> str:
    """Resolver ``vt_family_task``: ``default`` (the quickstart's name) when neither model, data nor experiment is
    chosen on the command line; otherwise the task name of the model's family (a user's unregistered model: its
    config's name, model=mine → mine), so that runs of one kind land together in outputs/<task_name>/."""
    chosen = _chosen_groups()
    if chosen is None or not chosen[0] & set(_CHOOSING_GROUPS):
        return default
    try:
        family = family_of_target(str(target))
    except Exception:  # an unimportable target: validation names it
        family = None
    if family is not None:
        return family.task_name
    return str(chosen[1].get("model") or default).replace("/", "_")


def check_trusted_classes(cfg: DictConfig) -> None:
    """``model`` and ``data`` classes outside visiontrain need their package in ``trusted_modules`` (train too, so
    that a run which trains also evaluates, predicts and exports with the same setting)."""
    from visiontrain.families.trust import how_to_trust, is_trusted, trusted_modules

    if "trusted_modules" not in cfg:  # not an entry point's config (a section validated alone)
        return
    trusted = trusted_modules(OmegaConf.to_container(cfg.trusted_modules) if OmegaConf.is_list(cfg.trusted_modules)
                              else cfg.trusted_modules)
    for key in ("model", "data"):
        node = OmegaConf.select(cfg, key, default=None)
        if isinstance(node, DictConfig) and "_target_" in node and not is_trusted(str(node._target_), trusted):
            raise ConfigError(f"{key}._target_: '{node._target_}' is outside visiontrain and not trusted "
                              f"({how_to_trust(str(node._target_))})")
