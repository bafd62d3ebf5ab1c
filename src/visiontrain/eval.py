"""`vt-eval ckpt_path=…`: test a checkpoint on the data it was trained with, or on another dataset (`data=…`)."""

from __future__ import annotations

from typing import Any, Mapping

import hydra
from omegaconf import DictConfig, OmegaConf

import visiontrain  # noqa: F401
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.resolvers import register_resolvers

register_resolvers()


def evaluate(cfg: DictConfig) -> tuple[Mapping[str, Any], str | None]:
    import pytorch_lightning as pl
    from hydra.utils import get_class, instantiate

    from visiontrain.config.validation import validate_config
    from visiontrain.errors import ConfigError
    from visiontrain.families.config import adopt_data
    from visiontrain.families.protocols import defines
    from visiontrain.families.registry import check_fits, family_of_module
    from visiontrain.run.instantiate import instantiate_collection, log_run_config
    from visiontrain.run.precision import report_precision
    from visiontrain.weights.checkpoints import (
        check_stored_targets,
        load_module,
        read_stored_config,
        trusted_class,
    )

    ckpt_path = str(cfg.ckpt_path)
    trusted = cfg.get("trusted_modules")
    stored = read_stored_config(ckpt_path)
    data_cfg = cfg.get("data")
    if data_cfg is None:  # the data the checkpoint was trained with (stored resolved, validated here)
        if "_target_" not in (stored.get("data") or {}):
            raise ConfigError(f"data: {ckpt_path} stores no data config; choose one with data=<name>")
        check_stored_targets(ckpt_path, stored["data"], trusted, "data")  # the checkpoint names this code
        data_cfg = OmegaConf.create(stored["data"])
        validate_config(OmegaConf.create({"data": data_cfg}))
    model_cls = trusted_class(ckpt_path, str((stored.get("model") or {}).get("_target_", "")), trusted, "model")
    if not defines(model_cls, "test_step"):
        raise ConfigError(f"ckpt_path: {model_cls.__qualname__} defines no test_step(); vt-eval has nothing to run")
    adopt_data(data_cfg, family_of_module(model_cls))  # a YOLO checkpoint on data=coco: the YOLO pipeline
    check_fits(model_cls, get_class(str(data_cfg._target_)))  # before any data is read

    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    model = load_module(ckpt_path, stored, trusted)
    datamodule = instantiate(data_cfg)
    loggers = instantiate_collection(cfg.get("logger"))
    callbacks = instantiate_collection(cfg.get("callbacks"))
    report_precision(cfg.trainer)
    trainer: pl.Trainer = instantiate(cfg.trainer, logger=loggers or False, callbacks=callbacks)
    log_run_config(loggers, cfg)
    trainer.test(model, datamodule=datamodule)
    return dict(trainer.callback_metrics), ckpt_path


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> float | None:
    from visiontrain.run.job import run_job

    return run_job(cfg, evaluate)


if __name__ == "__main__":
    main()
