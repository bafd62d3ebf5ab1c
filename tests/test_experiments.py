"""Every shipped experiment composes, validates and instantiates (data, model, trainer, callbacks, loggers)."""

from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from helpers import compose_cfg
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.run.instantiate import instantiate_collection
from visiontrain.config.validation import validate_config

EXPERIMENTS = sorted(p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml"))
# experiments that start from a checkpoint the user names: composed here without it
NEEDS_WEIGHTS = {"digits_transfer"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_instantiates(name, tmp_path):
    overrides = [f"experiment={name}"]
    if name in NEEDS_WEIGHTS:
        overrides += ["model.weights_path=null", "model.transfer.mode=scratch"]
    cfg = compose_cfg(overrides, tmp_path)
    for key in OmegaConf.missing_keys(cfg):  # paths to the user's own data (det_coco, …): any path will do here
        if not key.startswith("hydra"):
            OmegaConf.update(cfg, key, str(tmp_path / "users_data" / key))
    validate_config(cfg)
    assert cfg.task_name == name or name == "quickstart"
    instantiate(cfg.data)
    instantiate(cfg.model)
    instantiate(cfg.trainer, callbacks=instantiate_collection(cfg.callbacks),
                logger=instantiate_collection(cfg.logger) or False)
    assert not (tmp_path / "data").exists(), "instantiation must not touch data"
