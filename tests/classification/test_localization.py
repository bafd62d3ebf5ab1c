"""Single-object localization: the generated set round-trips through the YOLO reader, targets are [x, y, w, h, class],
and the localizer trains end to end through vt-train's code path."""

import json

import numpy as np
import pytest
import torch

from helpers import FAST, compose_cfg
from visiontrain.data.localization import LocalizationDataModule
from visiontrain.data.synthetic.shapes_localization import ShapesLocalization
from visiontrain.errors import DataError
from visiontrain.train import train
from visiontrain.run.job import run_job


@pytest.fixture(scope="module")
def shapes_loc(tmp_path_factory):
    source = ShapesLocalization(str(tmp_path_factory.mktemp("loc") / "shapes_loc"), count=80, image_size=48)
    source.prepare()
    return source


def test_generated_set_is_yolo_layout_with_one_box_per_image(shapes_loc):
    index = shapes_loc.load_index()
    assert len(index) == 80 and index.class_names == ["circle", "square", "triangle", "star"]
    assert all(len(r.labels) == 1 for r in index.records)
    boxes = np.concatenate([r.boxes for r in index.records])
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert boxes.min() >= 0 and boxes.max() <= 48
    assert (shapes_loc.root / "labels" / "00000.txt").read_text().count("\n") == 1


def test_target_vector_is_normalised_top_left_width_height_class(shapes_loc):
    dm = LocalizationDataModule(shapes_loc, batch_size=8)
    dm.setup("fit")
    images, targets = next(iter(dm.val_dataloader()))
    assert images.shape[1:] == (3, 48, 48) and targets.shape == (8, 5)
    first = dm.index.records[int(dm.splits["val"][0])]
    x0, y0, x1, y1 = first.boxes[0] / 48
    expected = torch.tensor([x0, y0, x1 - x0, y1 - y0, float(first.labels[0])])
    assert torch.allclose(targets[0], expected, atol=1e-5)


def test_images_with_several_objects_are_refused(tmp_path, shapes_loc):
    label = shapes_loc.root / "labels" / "00003.txt"
    original = label.read_text()
    try:
        label.write_text(original + original)
        with pytest.raises(DataError, match=r"00003\.png: localization needs exactly one object per image"):
            LocalizationDataModule(shapes_loc).setup("fit")
    finally:
        label.write_text(original)


def test_localizer_trains_and_reports_acc_and_iou(tmp_path, data_dir):
    cfg = compose_cfg([*FAST, "experiment=localize_shapes", "data.source.count=120"], tmp_path, data_dir)
    run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"train/loss", "val/iou", "val/acc", "test/iou", "test/acc"} <= set(record["metrics"])
    assert 0.0 <= record["metrics"]["test/iou"] <= 1.0
