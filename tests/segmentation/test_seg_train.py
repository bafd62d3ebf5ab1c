"""experiment=seg_shapes_unet on the real config tree, shrunk to a few batches."""

import json

import pytest

from helpers import FAST, compose_cfg
from visiontrain.errors import ConfigError
from visiontrain.train import train
from visiontrain.run.job import run_job
from visiontrain.config.validation import validate_config

SMALL = ("experiment=seg_shapes_unet", "data.source.count=40", "data.batch_size=8")


def _run(tmp_path, data_dir, *overrides):
    cfg = compose_cfg([*FAST, *SMALL, *overrides], tmp_path, data_dir)
    run_job(cfg, train)
    return json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_seg_shapes_unet_trains_tests_and_reloads(tmp_path, data_dir):
    record = _run(tmp_path, data_dir)
    assert record["status"] == "finished"
    m = record["metrics"]
    assert {"train/loss", "train/loss_ce", "train/loss_dice", "val/miou", "val/dice", "test/miou", "test/dice",
            "test/loss"} <= set(m)
    assert 0.0 <= m["test/miou"] <= 1.0 and any(k.startswith("test/iou/") for k in m)
    assert (tmp_path / "run" / "test_masks.png").is_file()  # image | truth | prediction panel

    from visiontrain.weights.checkpoints import load_module, read_stored_config

    ckpt = record["best_model_path"]
    model = load_module(ckpt, read_stored_config(ckpt))  # weights_only=True: hparams are plain data
    assert model.class_names == ["background", "circle", "square", "triangle", "star"]


@pytest.mark.slow  # a resnet18 encoder: about 40 s on 2 cores
def test_reads_the_coco_copy_and_trains_the_resnet_unet(tmp_path, data_dir):
    record = _run(tmp_path, data_dir, "data.source.format=coco", "model=unet_resnet",
                  "model.encoder.decoder_channels=[32,16,16,16]")
    assert record["status"] == "finished" and "test/miou" in record["metrics"]


@pytest.mark.parametrize("override, message", [
    ("model.unet.norm=layer", "model.unet.norm: 'layer' is not a valid choice"),
    ("+model.loss.dice_weight=1", "model.loss.dice_weight: unknown key"),
    ("data.on_bad_sample=ignore", "data.on_bad_sample: 'ignore' is not a valid choice"),
])
def test_config_mistakes_are_named(tmp_path, override, message):
    cfg = compose_cfg([*SMALL, override], tmp_path)
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)
