"""YOLO on a user's dataset in one command: an Ultralytics data.yaml, a COCO-2017 download layout, a VOC tree —
small generated datasets written in each layout, trained for one batch through the shipped data configs."""

import json
import shutil

import pytest

from helpers import FAST, compose_cfg
from visiontrain.data.formats.coco import CocoReader
from visiontrain.data.synthetic.shapes_detection import ShapesDetection
from visiontrain.errors import DataError
from visiontrain.train import train
from visiontrain.run.job import run_job

# The image size is the model's (an ordinary override); the family picks the YOLO pipeline, metric and task name.
TINY = ("model=yolo", "model.img_size=64", "model.scale=n", "model.log_images=0", "data.batch_size=4", "data.num_workers=0", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Shapes-det written by the generator: an Ultralytics tree with data.yaml, COCO JSON and VOC XML per split."""
    root = tmp_path_factory.mktemp("own") / "shapes"
    ShapesDetection(str(root), num_train=8, num_val=4, num_test=4, image_size=96, min_size=0.25,
                    format="yolo").prepare()
    return root


def coco2017(shapes, out):
    """The layout of COCO 2017 as downloaded: annotations/instances_train2017.json + train2017/*.png."""
    (out / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        shutil.copytree(shapes / "images" / split, out / f"{split}2017")
        data = json.loads((shapes / "annotations" / f"{split}.json").read_text())
        for image in data["images"]:
            image["file_name"] = image["file_name"].rsplit("/", 1)[-1]  # relative to train2017/, as in COCO
        (out / "annotations" / f"instances_{split}2017.json").write_text(json.dumps(data))
    return out


def voc(shapes, out):
    """VOC: JPEGImages/, Annotations/, ImageSets/Main/{train,val}.txt (ids as the generator writes them)."""
    shutil.copytree(shapes / "images", out / "JPEGImages")
    shutil.copytree(shapes / "Annotations", out / "Annotations")
    shutil.copytree(shapes / "ImageSets", out / "ImageSets")
    return out


@pytest.mark.parametrize("layout", ["yolo_format", "coco", "voc"])
def test_model_yolo_trains_on_each_layout_in_one_command(shapes, tmp_path, layout):
    source = {"yolo_format": f"data.source.data_yaml={shapes / 'data.yaml'}",
              "coco": f"data.source.root={coco2017(shapes, tmp_path / 'coco')}",
              "voc": f"data.source.root={voc(shapes, tmp_path / 'voc')}"}[layout]
    cfg = compose_cfg([*FAST, *TINY, f"data={layout}", source], tmp_path)
    assert cfg.task_name == "detect_yolo" and "img_size" not in cfg.data
    run_job(cfg, train)
    assert cfg.data._target_ == "visiontrain.data.yolo_data.YoloDataModule" and cfg.data.img_size == 64
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "finished", record
    assert record["optimized_metric"] == "val/map_50" and record["task_name"] == "detect_yolo"
    assert {"val/map_50", "test/map_50", "train/loss"} <= set(record["metrics"])


def test_coco_2017_layout_is_found_without_overrides(shapes, tmp_path):
    root = coco2017(shapes, tmp_path / "coco")
    index = CocoReader(str(root)).load_index()  # train: auto, val: auto
    assert len(index.splits["train"]) == 8 and len(index.splits["val"]) == 4
    assert str(index.records[0].path).startswith(str(root / "train2017"))


def test_no_coco_layout_lists_the_layouts_looked_for(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "train.json").write_text("{}")  # a name none of the layouts uses
    with pytest.raises(DataError, match=r"no COCO training split found; looked for annotations/instances_train\.json "
                                        r"\+ train/; annotations/instances_train2017\.json \+ train2017/; .*"
                                        r"train/_annotations\.coco\.json \+ train/"):
        CocoReader(str(tmp_path)).load_index()
