"""Broken annotations through every box reader (YOLO, COCO, VOC and the datamodules on them), masks of the wrong
size, and empty splits: one line naming the file and the problem, or with data.on_bad_sample=skip a counted skip."""

import numpy as np
import pytest
from bad_corpus import (
    BOX,
    LABEL_CASES,
    LABEL_READERS,
    FakeTrainer,
    H,
    W,
    datamodule,
    every_batch,
    image_folder,
    write_broken,
    write_good,
    yolo,
)

from visiontrain.data.bad_samples import LIST_FILE
from visiontrain.errors import DataError

# what each reader's message says: the file it names, and the problem per case
NAMED_FILE = {"yolo": "bad.txt", "localization": "bad.txt", "yolo_pipeline": "bad.txt", "coco": "ann.json (image bad.png",
              "voc": "bad.xml"}
PROBLEM = {
    "wrong_columns": {"yolo": "expected 'cls cx cy w h' (5 numbers), got 4", "coco": "expected [x, y, w, h]",
                      "voc": "<bndbox> needs numeric xmin, ymin, xmax, ymax"},
    "nan": {"yolo": "NaN or infinite value", "coco": "NaN or infinite box coordinate",
            "voc": "NaN or infinite box coordinate"},
    "negative": {"any": "negative width or height"},
    "outside": {"any": f"lies outside the {W}x{H} image"},
    "unknown_class": {"yolo": "unknown class id 7", "coco": "unknown category_id 99", "voc": "unknown class 'zebra'"},
}


def problem(case: str, kind: str) -> str:
    fmt = kind if kind in ("coco", "voc") else "yolo"
    return PROBLEM[case].get(fmt, PROBLEM[case].get("any"))


@pytest.mark.parametrize("kind", LABEL_READERS)
@pytest.mark.parametrize("case", LABEL_CASES)
def test_broken_annotation_is_one_line_naming_the_file_and_problem(tmp_path, kind, case):
    dm = datamodule(kind, tmp_path / "data", label_case=case)
    with pytest.raises(DataError) as err:
        dm.setup("fit")
    message = str(err.value)
    assert "\n" not in message
    assert NAMED_FILE[kind] in message and problem(case, kind) in message, message
    assert "data.on_bad_sample=skip" in message


@pytest.mark.parametrize("kind", LABEL_READERS)
@pytest.mark.parametrize("case", LABEL_CASES)
def test_broken_annotation_with_skip_leaves_the_image_out_counted(tmp_path, kind, case, caplog):
    dm = datamodule(kind, tmp_path / "data", "skip", label_case=case)
    dm.trainer = FakeTrainer(tmp_path / "run")
    assert every_batch(dm) == 6  # the six good images, all of them
    listed = (tmp_path / "run" / LIST_FILE).read_text("utf-8").splitlines()
    assert len(listed) == 1 and NAMED_FILE[kind] in listed[0] and problem(case, kind) in listed[0]
    assert "skipped 1 unusable samples (data.on_bad_sample=skip)" in caplog.text
    assert all(r.path.name != "bad.png" for r in dm.index.records)


def test_unknown_category_in_coco_for_semantic_masks(tmp_path):
    dm = datamodule("coco_semantic", tmp_path / "data", label_case="unknown_class")
    with pytest.raises(DataError, match=r"ann\.json: annotation \d+ has unknown category_id 99") as err:
        dm.setup("fit")
    assert "\n" not in str(err.value)
    dm = datamodule("coco_semantic", tmp_path / "skip", "skip", label_case="unknown_class")
    assert every_batch(dm) == 6 and len(dm.bad.lines) == 1


def test_box_partly_off_the_image_is_clipped_and_counted_in_both_modes(tmp_path, caplog):
    from visiontrain.data.formats.yolo import YoloReader

    data_yaml = yolo(tmp_path, good=1)
    _, y1, _, y2 = BOX
    (tmp_path / "labels" / "train" / "good0.txt").write_text(f"0 0 {(y1 + y2) / 2 / H} 0.5 {(y2 - y1) / H}\n")
    for policy in ("error", "skip"):  # a negative x1: the box runs off the left edge, the object is still there
        index = YoloReader(str(data_yaml)).load_index(policy)
        np.testing.assert_allclose(index.records[0].boxes, [[0, y1, W / 4, y2]], atol=1e-4)
        assert index.skipped == {"boxes clipped to the image": 1} and not index.problems


@pytest.mark.parametrize("kind, named", [("mask_folder", "masks/bad.png"), ("instance_masks", "bad_mask.png"),
                                         ("coco_semantic", "ann.json (image id 1)")])
def test_mask_of_the_wrong_size(tmp_path, kind, named):
    files = {"sizes": {"good0.png": (W + 8, H)}} if kind == "coco_semantic" else {"wrong_size_mask": True}
    dm = datamodule(kind, tmp_path / "data", **files)
    with pytest.raises(DataError) as err:
        dm.setup("fit")
    message = str(err.value)
    assert "\n" not in message and named in message and f"{W + 8}x{H}" in message and f"{W}x{H}" in message, message
    dm = datamodule(kind, tmp_path / "skip", "skip", **files)
    dm.trainer = FakeTrainer(tmp_path / "run")
    assert every_batch(dm) == (5 if kind == "coco_semantic" else 6)
    assert named in (tmp_path / "run" / LIST_FILE).read_text("utf-8")


def test_empty_split_folder_is_named(tmp_path):
    for name in ("cat", "dog"):
        write_good(tmp_path / "train" / name / "a.png")
        write_good(tmp_path / "train" / name / "b.png", seed=1)
        (tmp_path / "val" / name).mkdir(parents=True)
    dm = datamodule("classification", tmp_path / "unused")
    dm.source.root = tmp_path
    with pytest.raises(DataError, match=r"/val: no image files found"):
        dm.setup("fit")


def test_split_left_empty_by_skipped_files_is_named(tmp_path):
    for name in ("cat", "dog"):
        image_folder(tmp_path / "train", {}, per_class=3)
        write_broken(tmp_path / "val" / name / "zero.png")
    dm = datamodule("classification", tmp_path / "unused", "skip")
    dm.source.root = tmp_path
    with pytest.raises(DataError, match=r"the 'val' split has no samples after 2 bad samples were skipped"):
        dm.setup("fit")


@pytest.mark.parametrize("kind", ["yolo", "localization", "yolo_pipeline"])
def test_empty_yolo_val_folder_is_named(tmp_path, kind):
    dm = datamodule(kind, tmp_path / "data", empty_val=True)
    with pytest.raises(DataError) as err:
        dm.setup("fit")
    assert "data.yaml: the 'val' split has no samples" in str(err.value)


def test_empty_mask_folder_split_is_named(tmp_path):
    from bad_corpus import mask_pairs

    from visiontrain.data.formats.mask_folder import MaskFolderReader
    from visiontrain.data.segmentation import SegmentationDataModule

    mask_pairs(tmp_path / "train")
    (tmp_path / "val" / "images").mkdir(parents=True)
    (tmp_path / "val" / "masks").mkdir(parents=True)
    (tmp_path / "classes.txt").write_text("background\nblock\n")
    dm = SegmentationDataModule(MaskFolderReader(str(tmp_path)))
    with pytest.raises(DataError, match=r"val/masks: mask folder is empty"):
        dm.setup("fit")
