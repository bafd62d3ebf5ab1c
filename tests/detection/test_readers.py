"""The readers: one generated dataset read through COCO, YOLO, VOC and instance-mask PNGs gives the same samples;
bad input is clipped/dropped and counted, or is one error naming the file."""

import json

import numpy as np
import pytest

from det_helpers import small_shapes, write_png
from visiontrain.data.formats.coco import CocoReader, CocoSplit, segmentation_to_mask, to_coco_results
from visiontrain.data.formats.instance_masks import InstanceMaskReader
from visiontrain.data.formats.voc import VocReader, write_xml
from visiontrain.data.formats.yolo import YoloReader
from visiontrain.errors import DataError


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return small_shapes(tmp_path_factory.mktemp("det") / "shapes_det")


def test_three_formats_read_back_identical_samples(shapes):
    coco, yolo, voc = (shapes.reader(f).load_index() for f in ("coco", "yolo", "voc"))
    assert coco.class_names == yolo.class_names == voc.class_names == ["circle", "square", "triangle", "star"]
    assert {k: len(v) for k, v in coco.splits.items()} == {"train": 6, "val": 3, "test": 3}
    for name in ("train", "val", "test"):
        assert [len(x.splits[name]) for x in (coco, yolo, voc)] == [len(coco.splits[name])] * 3
    n_objects = 0
    for a, b, c in zip(coco.records, yolo.records, voc.records):
        assert a.path == b.path == c.path
        assert (a.width, a.height) == (b.width, b.height) == (c.width, c.height)
        np.testing.assert_array_equal(a.boxes, c.boxes)  # integer pixel boxes survive COCO and VOC exactly
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)  # YOLO stores normalised decimals
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.labels, c.labels)
        n_objects += len(a.labels)
        sample = coco.load(coco.records.index(a))
        assert sample["image"].shape == (96, 96, 3) and sample["image"].dtype == np.uint8
        assert sample["boxes"].dtype == np.float32 and sample["labels"].dtype == np.int64
    assert n_objects >= len(coco.records)  # at least one object per image
    assert coco.category_ids == [1, 3, 5, 7]  # sparse ids, remapped to 0..3


def test_coco_masks_equal_instance_mask_pngs_and_boxes_are_mask_extents(shapes):
    coco = shapes.reader("coco").load_index()
    pngs = {r.path: r for r in InstanceMaskReader(str(shapes.root), "images", "masks", "").load_index().records}
    for i, rec in enumerate(coco.records):
        masks = coco.load(i, with_masks=True)["masks"]
        assert masks.shape == (len(rec.labels), 96, 96)
        np.testing.assert_array_equal(masks, pngs[rec.path].masks())
        np.testing.assert_array_equal(rec.boxes, pngs[rec.path].boxes)
        for m, box in zip(masks, rec.boxes):
            ys, xs = np.nonzero(m)
            assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == box.tolist()


def _coco_file(tmp_path, annotations, images=None, categories=None):
    images = images or [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}]
    for img in images:
        write_png(tmp_path / "img" / img["file_name"], img["width"], img["height"])
    data = {"images": images, "annotations": annotations,
            "categories": categories or [{"id": 5, "name": "x"}, {"id": 9, "name": "y"}]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    return CocoReader(str(tmp_path), CocoSplit("ann.json", "img"))


def test_coco_boxes_outside_clipped_degenerate_dropped_and_counted(tmp_path):
    reader = _coco_file(tmp_path, [
        {"id": 1, "image_id": 1, "category_id": 9, "bbox": [30, 20, 20, 20]},  # runs off the image: clipped
        {"id": 2, "image_id": 1, "category_id": 5, "bbox": [5, 5, 0, 10]},  # zero width: dropped
    ])
    index = reader.load_index()
    rec = index.records[0]
    np.testing.assert_array_equal(rec.boxes, [[30, 20, 40, 30]])
    assert rec.labels.tolist() == [1]
    assert index.skipped == {"boxes clipped to the image": 1, "zero-area boxes dropped": 1}
    assert "1 zero-area boxes dropped" in index.summary()


@pytest.mark.parametrize("bbox, problem", [([float("nan"), 5, 3, 3], "annotation 3 has a NaN"),
                                           ([50, 40, 5, 5], "annotation 3 lies outside the 40x30 image")])
def test_coco_nan_or_outside_box_is_an_error_or_a_counted_skip(tmp_path, bbox, problem):
    reader = _coco_file(tmp_path, [{"id": 3, "image_id": 1, "category_id": 5, "bbox": bbox}])
    with pytest.raises(DataError, match=rf"ann\.json \(image a\.png, id 1\): {problem}"):
        reader.load_index()
    index = reader.load_index("skip")
    assert len(index) == 0 and index.skipped == {"images with a bad image file or annotation skipped": 1}


def test_coco_unknown_category_names_file_and_id(tmp_path):
    reader = _coco_file(tmp_path, [{"id": 1, "image_id": 1, "category_id": 77, "bbox": [1, 1, 5, 5]}])
    with pytest.raises(DataError, match=r"ann\.json.*unknown category_id 77"):
        reader.load_index()


def test_missing_image_is_an_error_or_a_counted_skip(tmp_path):
    images = [{"id": 1, "file_name": "a.png", "width": 40, "height": 30},
              {"id": 2, "file_name": "b.png", "width": 40, "height": 30}]
    reader = _coco_file(tmp_path, [], images)
    (tmp_path / "img" / "b.png").unlink()
    with pytest.raises(DataError, match=r"b\.png: image listed .* not found"):
        reader.load_index()
    index = reader.load_index("skip")
    assert len(index) == 1 and index.skipped == {"missing images skipped": 1}


def test_unreadable_image_error_names_the_file(tmp_path):
    reader = _coco_file(tmp_path, [])
    (tmp_path / "img" / "a.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"a\.png: unreadable image"):  # found while indexing: headers are read
        reader.load_index()


def test_coco_polygon_and_rle_masks_and_results_map_back_to_category_ids(tmp_path):
    from pycocotools import mask as mask_utils

    square = np.zeros((30, 40), np.uint8)
    square[5:15, 10:20] = 1
    rle = mask_utils.encode(np.asfortranarray(square))
    reader = _coco_file(tmp_path, [
        {"id": 1, "image_id": 1, "category_id": 9, "bbox": [10, 5, 10, 10], "area": 100, "iscrowd": 0,
         "segmentation": [[10, 5, 20, 5, 20, 15, 10, 15]]},
        {"id": 2, "image_id": 1, "category_id": 5, "bbox": [10, 5, 10, 10], "area": 100, "iscrowd": 1,
         "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()}},
    ])
    index = reader.load_index()
    masks = index.load(0, with_masks=True)["masks"]
    assert masks[1].sum() == 100 and (masks[1] == square).all()
    assert abs(int(masks[0].sum()) - 100) <= 21  # pycocotools rasterises polygon edges its own way
    assert index.records[0].iscrowd.tolist() == [0, 1]
    results = to_coco_results([1], [{"boxes": [[10, 5, 20, 15]], "scores": [0.9], "labels": [1]}],
                              index.category_ids)
    assert results == [{"image_id": 1, "category_id": 9, "score": 0.9, "bbox": [10.0, 5.0, 10.0, 10.0]}]
    assert segmentation_to_mask({"size": [30, 40], "counts": [0, 1200]}, 30, 40).sum() == 1200


def test_yolo_negatives_polygons_and_bad_lines(tmp_path):
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train\nnames: {0: cat, 1: dog}\n")
    for stem in ("a", "b", "c"):
        write_png(tmp_path / "images" / "train" / f"{stem}.png", 100, 50)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("1 0.5 0.5 0.2 0.4\n0 0.1 0.2 0.1 0.2 0.3 0.2 0.3 0.4\n")
    (tmp_path / "labels" / "train" / "b.txt").write_text("")  # c.png has no file: also a negative
    index = YoloReader(str(tmp_path / "data.yaml")).load_index()
    assert index.class_names == ["cat", "dog"]
    np.testing.assert_allclose(index.records[0].boxes, [[40, 15, 60, 35], [10, 10, 30, 20]], atol=1e-4)
    assert index.records[0].labels.tolist() == [1, 0]
    assert [len(r.labels) for r in index.records[1:]] == [0, 0]
    (tmp_path / "labels" / "train" / "b.txt").write_text("2 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"b\.txt:1: unknown class id 2"):
        YoloReader(str(tmp_path / "data.yaml")).load_index()


def test_voc_difficult_kept_and_unknown_class_named(tmp_path):
    write_png(tmp_path / "JPEGImages" / "001.jpg", 50, 40)
    write_xml(tmp_path / "Annotations" / "001.xml", "001.jpg", 50, 40,
              [("dog", [0, 0, 50, 40], False), ("cat", [5, 5, 10, 12], True)])
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "train.txt").write_text("001\n")
    index = VocReader(str(tmp_path), val=None).load_index()
    assert index.class_names == ["cat", "dog"]
    rec = index.records[0]
    np.testing.assert_array_equal(rec.boxes, [[0, 0, 50, 40], [5, 5, 10, 12]])  # 1-based VOC back to 0-based
    assert rec.difficult.tolist() == [False, True]
    with pytest.raises(DataError, match=r"001\.xml: unknown class 'dog'"):
        VocReader(str(tmp_path), val=None, class_names=["cat"]).load_index()


def _voc_year(root):
    write_png(root / "JPEGImages" / "001.jpg", 50, 40)
    write_xml(root / "Annotations" / "001.xml", "001.jpg", 50, 40, [("dog", [0, 0, 50, 40], False)])
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("001\n")


def test_voc_devkit_folder_is_found_and_several_years_or_none_named(tmp_path):
    _voc_year(tmp_path / "VOCdevkit" / "VOC2012")
    index = VocReader(str(tmp_path / "VOCdevkit"), val=None).load_index()  # the folder VOC's tar unpacks to
    assert str(index.records[0].path).startswith(str(tmp_path / "VOCdevkit" / "VOC2012"))
    _voc_year(tmp_path / "VOCdevkit" / "VOC2007")
    with pytest.raises(DataError, match=r"VOCdevkit: a VOCdevkit with VOC2007, VOC2012; set data\.source\.root=.*VOC2012"):
        VocReader(str(tmp_path / "VOCdevkit"), val=None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no VOC layout found; looked for Annotations/ \+ JPEGImages/"):
        VocReader(str(tmp_path / "empty"), val=None)


def test_instance_mask_reader_rejects_rgb_and_wrong_size_masks(tmp_path):
    from PIL import Image

    write_png(tmp_path / "PNGImages" / "p1.png", 20, 10)
    (tmp_path / "PedMasks").mkdir()
    ids = np.zeros((10, 20), np.uint8)
    ids[2:5, 3:9], ids[6:9, 10:12] = 1, 2
    Image.fromarray(ids).save(tmp_path / "PedMasks" / "p1_mask.png")
    index = InstanceMaskReader(str(tmp_path)).load_index()
    np.testing.assert_array_equal(index.records[0].boxes, [[3, 2, 9, 5], [10, 6, 12, 9]])
    assert index.load(0, with_masks=True)["masks"].sum(axis=(1, 2)).tolist() == [18, 6]
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(tmp_path / "PedMasks" / "p1_mask.png")
    with pytest.raises(DataError, match=r"p1_mask\.png: RGB mask"):
        InstanceMaskReader(str(tmp_path)).load_index()
    Image.fromarray(np.zeros((12, 20), np.uint8)).save(tmp_path / "PedMasks" / "p1_mask.png")
    with pytest.raises(DataError, match=r"p1_mask\.png: mask is 20x12, its image 20x10"):
        InstanceMaskReader(str(tmp_path)).load_index()
