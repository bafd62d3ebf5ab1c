"""Mask folders (palette / grayscale PNGs, split folders, classes.txt) and COCO rasterised to class masks."""

import json

import numpy as np
import pytest

from seg_fixtures import simple_mask, write_pair
from visiontrain.data.formats.coco_semantic import CocoSemanticReader
from visiontrain.data.formats.mask_folder import MaskFolderReader, read_mask
from visiontrain.data.synthetic.shapes_segmentation import ShapesSegmentation
from visiontrain.errors import DataError


def test_palette_png_gives_indices_not_colours(tmp_path):
    mask = simple_mask(label=2)
    mask[0, 0] = 255
    write_pair(tmp_path, "a", mask, mode="P")
    out = read_mask(tmp_path / "masks" / "a.png")
    assert out.dtype == np.uint8 and out.shape == (16, 16)
    np.testing.assert_array_equal(out, mask)


def test_grayscale_and_grey_rgb_masks_are_accepted(tmp_path):
    mask = simple_mask(label=3)
    write_pair(tmp_path, "g", mask, mode="L")
    write_pair(tmp_path, "r", mask, mode="RGB")  # three equal channels: still class indices
    np.testing.assert_array_equal(read_mask(tmp_path / "masks" / "g.png"), mask)
    np.testing.assert_array_equal(read_mask(tmp_path / "masks" / "r.png"), mask)


def test_mask_folder_with_split_folders_and_classes_txt(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for i in range(n):
            write_pair(tmp_path / split, f"{split}{i}", simple_mask())
    (tmp_path / "classes.txt").write_text("background\nthing\n")
    samples = MaskFolderReader(str(tmp_path)).load_index()
    assert samples.class_names == ["background", "thing"]
    assert {k: len(v) for k, v in samples.splits.items()} == {"train": 3, "val": 2}
    image, mask = samples.load(int(samples.splits["val"][0]))
    assert image.shape == (16, 16, 3) and mask.max() == 1


def test_mask_folder_needs_class_names(tmp_path):
    write_pair(tmp_path, "a", simple_mask())
    with pytest.raises(DataError, match="classes.txt"):
        MaskFolderReader(str(tmp_path)).load_index()
    assert MaskFolderReader(str(tmp_path), class_names=["bg", "x"]).load_index().class_names == ["bg", "x"]


def _coco(tmp_path, annotations, categories):
    (tmp_path / "img").mkdir()
    from PIL import Image

    for i in (1, 2):
        Image.new("RGB", (20, 10)).save(tmp_path / "img" / f"{i}.png")
    path = tmp_path / "ann.json"
    path.write_text(json.dumps({
        "images": [{"id": i, "file_name": f"{i}.png", "width": 20, "height": 10} for i in (1, 2)],
        "annotations": annotations, "categories": categories}))
    return CocoSemanticReader(str(path), str(tmp_path / "img")).load_index()


def test_coco_sparse_categories_polygons_rle_crowd_and_empty_images(tmp_path):
    from pycocotools import mask as mask_utils

    crowd = np.zeros((10, 20), np.uint8, order="F")
    crowd[0:2, 0:2] = 1
    rle = mask_utils.encode(crowd)
    rle["counts"] = rle["counts"].decode()
    anns = [
        {"id": 1, "image_id": 1, "category_id": 7, "iscrowd": 0, "segmentation": [[2, 2, 8, 2, 8, 8, 2, 8]]},
        {"id": 2, "image_id": 1, "category_id": 90, "iscrowd": 0, "segmentation": [[12, 2, 18, 2, 18, 8, 12, 8]]},
        {"id": 3, "image_id": 1, "category_id": 7, "iscrowd": 1, "segmentation": rle},
    ]
    samples = _coco(tmp_path, anns, [{"id": 90, "name": "dog"}, {"id": 7, "name": "cat"}])
    assert samples.class_names == ["background", "cat", "dog"]  # category ids in order → 1..K
    mask = samples.mask_loader(0)
    assert mask[5, 5] == 1 and mask[5, 15] == 2 and mask[0, 0] == 255 and mask[9, 10] == 0
    assert (samples.mask_loader(1) == 0).all()  # image 2 has no annotations: all background


def test_coco_missing_file_is_one_line_error(tmp_path):
    with pytest.raises(DataError, match="ann.json: COCO annotation file not found"):
        CocoSemanticReader(str(tmp_path / "ann.json")).load_index()


def test_shapes_seg_png_and_coco_copies_agree(data_dir):
    png = ShapesSegmentation(str(data_dir / "shapes_seg_small"), count=30).load_index()
    coco = ShapesSegmentation(str(data_dir / "shapes_seg_small"), count=30, format="coco").load_index()
    assert png.class_names == coco.class_names == ["background", "circle", "square", "triangle", "star"]
    agree = [np.mean(png.mask_loader(i) == coco.mask_loader(i)) for i in range(30)]
    assert min(agree) > 0.95  # PIL and pycocotools rasterise polygon edges a little differently
    assert max(int(png.mask_loader(i).max()) for i in range(30)) == 4
