"""`vt-eval ckpt_path=…`: test a checkpoint on the data it was trained with, or on another dataset (`data=…`)."""

from __future__ import annotations

from typing import Any, Mapping

import hydra
from omegaconf import DictConfig, OmegaConf

import visiontrain  # noqa: F401
from visiontrain.utils.config_paths import CONFIG_DIR
from visiontrain.utils.resolvers import register_resolvers

register_resolvers()


def evaluate(cfg: DictConfig) -> tuple[Mapping[str, Any], str | None]:
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    from visiontrain.errors import ConfigError
    from visiontrain.utils.checkpoints import load_module, read_stored_config
    from visiontrain.utils.family_check import check_checkpoint_fits_data
    from visiontrain.utils.instantiate import instantiate_collection, log_run_config
    from visiontrain.utils.validation import validate_config

    ckpt_path = str(cfg.ckpt_path)
    stored = read_stored_config(ckpt_path)
    data_cfg = cfg.get("data")
    if data_cfg is None:  # the data the checkpoint was trained with (stored resolved, validated here)
        if "_target_" not in (stored.get("data") or {}):
            raise ConfigError(f"data: {ckpt_path} stores no data config; choose one with data=<name>")
        data_cfg = OmegaConf.create(stored["data"])
        validate_config(OmegaConf.create({"data": data_cfg}))

    check_checkpoint_fits_data(ckpt_path, stored, data_cfg)  # before any data is read

    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    model = load_module(ckpt_path, stored)
    datamodule = instantiate(data_cfg)
    loggers = instantiate_collection(cfg.get("logger"))
    callbacks = instantiate_collection(cfg.get("callbacks"))
    trainer: pl.Trainer = instantiate(cfg.trainer, logger=loggers or False, callbacks=callbacks)
    log_run_config(loggers, cfg)
    trainer.test(model, datamodule=datamodule)
    return dict(trainer.callback_metrics), ckpt_path


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> float | None:
    from visiontrain.utils.job import run_job

    return run_job(cfg, evaluate)


if __name__ == "__main__":
    main()
