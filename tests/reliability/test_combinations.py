"""Settings that are each valid but nonsense together are rejected by validate_config, with the reason."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf, open_dict

from helpers import compose_cfg
from visiontrain.errors import ConfigError
from visiontrain.config.combinations import check_batch_split, check_combinations
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.validation import validate_config


@pytest.mark.parametrize(("overrides", "expected"), [
    (["model=faster_rcnn"], "data: Detector (model) trains on a DetectionDataModule (data=shapes_det, coco, voc, "
                            "yolo_format), but data is a ClassificationDataModule"),
    (["data=shapes_det"], "data: ImageClassifier (model) trains on a ClassificationDataModule"),
    (["data=shapes_seg", "model=yolo"], "data: YOLODetector (model) trains on a YoloDataModule (data=shapes_det_yolo, "
                                        "or any detection data"),
    (["data=shapes_seg", "model=restoration_unet"], "data: ImageRestorer (model) trains on a RestorationDataModule"),
    (["data=shapes_det", "model=mask_rcnn"], "data.with_masks: model.architecture=maskrcnn_resnet50_fpn trains on "
                                             "instance masks"),
])
def test_nonsense_combination_is_rejected_with_a_reason(tmp_path, overrides, expected):
    cfg = compose_cfg(overrides, tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert str(err.value).startswith(expected), str(err.value)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("gpus", "devices", "expected"), [
    (2, 4, "trainer.devices=4: this machine has 2 GPUs (set trainer.devices=2 or less, or auto)"),
    (0, 1, "trainer.accelerator=gpu: this machine has no GPU that PyTorch can use"),
])
def test_more_gpus_than_the_machine_has_is_rejected(tmp_path, monkeypatch, gpus, devices, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    cfg = compose_cfg(["trainer=gpu", f"trainer.devices={devices}"], tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert str(err.value).startswith(expected), str(err.value)


def test_enough_gpus_pass(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    check_combinations(compose_cfg(["trainer=gpu", "trainer.devices=4"], tmp_path))


def test_global_batch_size_must_split_over_all_devices():
    cfg = OmegaConf.create({"data": {"global_batch_size": 10}, "trainer": {"devices": 4, "num_nodes": 1}})
    with pytest.raises(ConfigError, match=r"^data.global_batch_size=10 does not split evenly over 4 devices"):
        check_batch_split(cfg)
    with open_dict(cfg):
        cfg.trainer.num_nodes, cfg.data.global_batch_size = 2, 16
    check_batch_split(cfg)  # 16 over 2 nodes x 4 devices: 2 per device


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml")))
def test_every_shipped_experiment_is_a_sensible_combination(tmp_path, experiment):
    check_combinations(compose_cfg([f"experiment={experiment}"], tmp_path))
