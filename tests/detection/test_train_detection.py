"""Each detection experiment family, composed from the real config and shrunk to a few CPU batches."""

import json

import pytest

from det_helpers import DET_FAST, SHAPES_FAST, small_shapes
from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job

MAP_KEYS = {"val/map", "val/map_50", "val/map_75", "val/map_small", "val/map_medium", "val/map_large",
            "test/map", "test/map_50", "test/map_75"}


def _run(tmp_path, data_dir, *overrides, shapes=True):
    cfg = compose_cfg([*FAST, *DET_FAST, *(SHAPES_FAST if shapes else ()), *overrides], tmp_path, data_dir)
    value = run_job(cfg, train)
    return value, json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_det_shapes_frcnn_trains_and_tests_best_checkpoint(tmp_path, data_dir):
    value, record = _run(tmp_path, data_dir, "experiment=det_shapes_frcnn")
    assert record["status"] == "finished", record
    metrics = record["metrics"]
    assert MAP_KEYS <= set(metrics) and {"train/loss", "train/loss_classifier", "test/ap/circle"} <= set(metrics)
    assert all(-1 <= metrics[k] <= 1 for k in MAP_KEYS)
    assert value == pytest.approx(metrics["val/map_50"])
    assert "checkpoints" in record["best_model_path"]


def test_inst_shapes_maskrcnn_reports_mask_map(tmp_path, data_dir):
    _, record = _run(tmp_path, data_dir, "experiment=inst_shapes_maskrcnn", "trainer.limit_train_batches=2",
                     "trainer.limit_val_batches=1", "trainer.limit_test_batches=1")
    assert record["status"] == "finished", record
    assert {"val/map_segm", "val/map_50_segm", "test/map_segm", "test/map", "test/ap_segm/circle"} <= set(
        record["metrics"])


@pytest.fixture(scope="module")
def user_dataset(tmp_path_factory):
    """A dataset in users' formats (COCO, YOLO, VOC side by side), outside the generated-data folder."""
    return small_shapes(tmp_path_factory.mktemp("user") / "shapes", image_size=96, n=6).root


@pytest.mark.parametrize("experiment,overrides", [
    ("det_coco", ["data.source.root={root}"] + [
        f"data.source.{s}={{annotations: annotations/{s}.json, images: images}}" for s in ("train", "val", "test")]),
    ("det_voc", ["data.source.root={root}", "data.source.images=images", "data.source.test=ImageSets/Main/test.txt"]),
    ("det_yolo_format", ["data.source.data_yaml={root}/data.yaml"]),
])
def test_user_format_experiments_train_on_their_folders(tmp_path, data_dir, user_dataset, experiment, overrides):
    extra = [o.replace("{root}", str(user_dataset)) for o in overrides]
    _, record = _run(tmp_path, data_dir, f"experiment={experiment}",
                     "model.architecture=fasterrcnn_mobilenet_v3_large_320_fpn", "data.num_workers=0",
                     "trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
                     *extra, shapes=False)
    assert record["status"] == "finished", record
    assert {"val/map_50", "test/map_50", "test/ap/square"} <= set(record["metrics"])


def test_mask_rcnn_without_masks_is_one_config_error(tmp_path, data_dir):
    cfg = compose_cfg([*FAST, *DET_FAST, *SHAPES_FAST, "experiment=det_shapes_frcnn",
                       "model.architecture=maskrcnn_resnet50_fpn"], tmp_path, data_dir)
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed" and "set data.with_masks=true" in record["error"]


def test_unknown_architecture_is_rejected_before_any_data(tmp_path, data_dir):
    from visiontrain.errors import ConfigError
    from visiontrain.config.validation import validate_config

    cfg = compose_cfg([*FAST, "experiment=det_shapes_frcnn", "model.architecture=yolov9"], tmp_path, data_dir)
    with pytest.raises(ConfigError, match=r"model.architecture: 'yolov9' is not a valid choice; valid choices: "
                                          r"'fasterrcnn_resnet50_fpn'"):
        validate_config(cfg)
