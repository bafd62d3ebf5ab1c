"""Datasets as exporters and half-finished copies leave them: each trap that used to be read silently (or crash deep
inside) is stopped with one line naming the file and the record, repaired and counted, or accepted with a note."""


import numpy as np
import pytest
from exporter_corpus import (
    H,
    W,
    coco_dict,
    coco_reader,
    uncompressed_rle,
    write_coco,
    write_image_folder,
    write_mask_folder,
    write_voc,
    write_yolo,
)

from visiontrain.errors import DataError


def one_line_error(fn, *args, match: str):
    with pytest.raises(DataError) as err:
        fn(*args)
    message = str(err.value)
    assert "\n" not in message, message
    assert match in message, message
    return message


# --- COCO: sections, ids, duplicates ---

@pytest.mark.parametrize("section", ["images", "annotations", "categories"])
def test_coco_required_section_missing_stops(tmp_path, section):
    data = coco_dict()
    del data[section]
    write_coco(tmp_path, data)
    message = one_line_error(coco_reader(tmp_path).load_index, match=f"no '{section}' section")
    assert "ann.json" in message


def test_coco_empty_annotations_list_means_no_objects(tmp_path):
    data = coco_dict()
    data["annotations"] = []
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert len(index) == 2 and sum(len(r.labels) for r in index.records) == 0


def test_coco_merged_exports_with_clashing_image_ids_stop(tmp_path):
    data = coco_dict(2)
    data["images"][1]["id"] = 1  # a second export numbered from 1 again
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match="image id 1 is used by both 'img1.png' and 'img2.png'")


def test_coco_clashing_category_ids_stop(tmp_path):
    data = coco_dict()
    data["categories"].append({"id": 3, "name": "bird"})
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match="category id 3 is used for both 'dog' and 'bird'")


def test_coco_exact_repeats_are_dropped_and_counted(tmp_path):
    data = coco_dict(2)
    data["images"].append(dict(data["images"][0]))
    data["annotations"].append(dict(data["annotations"][0]))
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert len(index) == 2 and [len(r.labels) for r in index.records] == [1, 1]
    assert index.skipped["duplicate image entries dropped"] == 1
    assert index.skipped["duplicate annotations dropped"] == 1
    assert not index.skipped_images  # repairs, not images left out


def test_coco_repeated_annotation_ids_are_kept_and_noted(tmp_path):
    data = coco_dict(2)
    data["annotations"][1]["id"] = data["annotations"][0]["id"]
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert [len(r.labels) for r in index.records] == [1, 1]
    assert any("annotation ids are used more than once" in n for n in index.notes)


@pytest.mark.parametrize("ids, expected", [(["7", "9"], [7, 9]), ([7.0, 9.0], [7, 9]), (["a7", "b9"], [0, 1])])
def test_coco_non_integer_image_ids_are_read_and_said(tmp_path, ids, expected):
    data = coco_dict(2)
    for img, ann, new in zip(data["images"], data["annotations"], ids):
        img["id"] = ann["image_id"] = new
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert [r.image_id for r in index.records] == expected
    assert [len(r.labels) for r in index.records] == [1, 1]  # annotations still find their image
    assert len(index.notes) == 1 and "image ids" in index.notes[0]


def test_coco_string_category_ids(tmp_path):
    data = coco_dict(1)
    data["categories"][0]["id"] = "1"
    write_coco(tmp_path, data)
    assert coco_reader(tmp_path).load_index().category_ids == [1, 3]
    data["categories"][0]["id"] = "cat"
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match="category ids must be integers")


def test_coco_image_without_file_name_stops(tmp_path):
    data = coco_dict(1)
    del data["images"][0]["file_name"]
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match="images[0] (id 1) has no 'file_name'")


def test_coco_null_iscrowd_and_area_read_as_defaults(tmp_path):
    data = coco_dict(1)
    data["annotations"][0].update(iscrowd=None, area=None)
    write_coco(tmp_path, data)
    rec = coco_reader(tmp_path).load_index().records[0]
    assert rec.iscrowd.tolist() == [0] and rec.area.tolist() == [20.0]  # the box's area


@pytest.mark.parametrize("width, height, noted", [("16", "12", False), (16.0, 12.0, False), (0, 0, True),
                                                  (-3, 12, True), (None, None, True)])
def test_coco_sizes_as_exporters_write_them(tmp_path, width, height, noted):
    data = coco_dict(1)
    data["images"][0].update(width=width, height=height)
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert (index.records[0].width, index.records[0].height) == (W, H)
    assert any("sizes read from the image files" in n for n in index.notes) == noted


def test_coco_size_that_disagrees_with_the_image_names_file_and_sizes(tmp_path):
    data = coco_dict(1)
    data["images"][0].update(width=W * 2)
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match=f"img1.png: image is {W}x{H} after EXIF orientation but "
                                                           f"ann.json says {2 * W}x{H}")


# --- COCO: file names ---

@pytest.mark.parametrize("file_name, why", [("train2017/img1.png", "starting with the image folder 'train2017/'"),
                                            ("train2017\\img1.png", "starting with the image folder"),
                                            ("/home/labeller/export/img1.png", "folders that do not exist here")])
def test_coco_file_names_that_repeat_the_folder_or_the_labelling_machine(tmp_path, file_name, why):
    data = coco_dict(1)
    data["images"][0]["file_name"] = file_name
    write_coco(tmp_path, data, image_dir="train2017")
    index = coco_reader(tmp_path, "train2017").load_index()
    assert index.records[0].path == tmp_path / "train2017" / "img1.png"
    assert len(index.notes) == 1 and why in index.notes[0] and index.notes[0].startswith(str(tmp_path / "ann.json"))


def test_coco_windows_separators(tmp_path):
    data = coco_dict(1)
    data["images"][0]["file_name"] = "sub\\img1.png"
    write_coco(tmp_path, data)
    (tmp_path / "images" / "sub").mkdir()
    (tmp_path / "images" / "img1.png").rename(tmp_path / "images" / "sub" / "img1.png")
    index = coco_reader(tmp_path).load_index()
    assert index.records[0].path == tmp_path / "images" / "sub" / "img1.png"
    assert len(index.notes) == 1 and "Windows" in index.notes[0]


# --- COCO: segmentations ---

def masks_of(tmp_path, segmentation, **ann):
    data = coco_dict(1)
    data["annotations"][0].update(segmentation=segmentation, **ann)
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    return index, index.records[0].masks()


@pytest.mark.parametrize("polygon, count", [([2, 2, 6, 2, 6], 5), ([2, 2, 6, 2], 4), ([], 0)])
def test_coco_malformed_polygon_stops_naming_the_annotation(tmp_path, polygon, count):
    data = coco_dict(1)
    data["annotations"][0]["segmentation"] = [[2, 2, 6, 2, 6, 7, 2, 7], polygon]
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match=f"annotation 1: polygon 1 has {count} coordinates")


def test_coco_polygon_with_text_coordinates_stops(tmp_path):
    data = coco_dict(1)
    data["annotations"][0]["segmentation"] = [[2, 2, "6", 2, 6, 7]]
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match="polygon 0 is not a list of finite numbers")


def test_coco_flat_polygon_is_one_polygon_and_noted(tmp_path):
    index, masks = masks_of(tmp_path, [2, 2, 6, 2, 6, 7, 2, 7])
    assert masks.shape == (1, H, W) and masks[0, 4, 4] == 1 and masks.sum() > 10
    assert any("flat polygons" in n for n in index.notes)


def _rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


@pytest.mark.parametrize("form", [_rle, uncompressed_rle, lambda m: [_rle(m)]])
def test_coco_rle_variants_decode_to_the_same_mask(tmp_path, form):
    truth = np.zeros((H, W), np.uint8)
    truth[3:8, 2:9] = 1
    _, masks = masks_of(tmp_path, form(truth), iscrowd=1)
    np.testing.assert_array_equal(masks[0], truth)


def test_coco_rle_of_another_size_stops(tmp_path):
    wrong = _rle(np.zeros((H + 4, W), np.uint8))
    data = coco_dict(1)
    data["annotations"][0]["segmentation"] = wrong
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index,
                   match=f"annotation 1: RLE size [{H + 4}, {W}] (height, width) but the image is {H}x{W}")


def test_coco_uncompressed_rle_that_does_not_cover_the_image_stops(tmp_path):
    data = coco_dict(1)
    data["annotations"][0]["segmentation"] = {"size": [H, W], "counts": [5, 10]}
    write_coco(tmp_path, data)
    one_line_error(coco_reader(tmp_path).load_index, match=f"counts add up to 15 pixels, the image has {H * W}")


def test_coco_crowd_only_image_trains_and_evaluates_with_masks(tmp_path):
    from visiontrain.data.detection import DetectionDataModule

    truth = np.zeros((H, W), np.uint8)
    truth[3:8, 2:9] = 1
    data = coco_dict(3)
    data["annotations"][0].update(iscrowd=1, segmentation=uncompressed_rle(truth))
    write_coco(tmp_path, data)
    dm = DetectionDataModule(coco_reader(tmp_path), with_masks=True, batch_size=3, val_fraction=0, test_fraction=0)
    dm.setup("fit")
    train = dm._dataset("train")
    crowd_only = next(k for k, j in enumerate(train.indices) if dm.index.records[j].iscrowd.any())
    _, target = train[crowd_only]
    assert len(target["boxes"]) == 0 and target["masks"].shape[0] == 0  # crowd regions are not training targets
    images, _ = next(iter(dm.train_dataloader()))
    assert len(images) == 3


def test_coco_near_duplicate_category_names_warned(tmp_path, caplog):
    data = coco_dict(6, boxes_per_image=2)
    data["categories"].append({"id": 4, "name": "dgo"})
    data["annotations"][-1]["category_id"] = 4
    write_coco(tmp_path, data)
    index = coco_reader(tmp_path).load_index()
    assert len(index.class_names) == 3
    assert any("'dgo' (1 samples) looks like 'dog'" in n for n in index.notes)
    assert "looks like 'dog'" in caplog.text  # said in the start-up log


# --- COCO semantic ---

def semantic(tmp_path, data):
    from visiontrain.data.formats.coco_semantic import CocoSemanticReader

    write_coco(tmp_path, data)
    return CocoSemanticReader(str(tmp_path / "ann.json"), str(tmp_path / "images")).load_index()


def test_coco_semantic_missing_annotations_section_stops(tmp_path):
    data = coco_dict()
    del data["annotations"]
    one_line_error(semantic, tmp_path, data, match="no 'annotations' section")


def test_coco_semantic_without_sizes_reads_them_from_the_files(tmp_path):
    data = coco_dict(1)
    for key in ("width", "height"):
        del data["images"][0][key]
    samples = semantic(tmp_path, data)  # pycocotools' annToMask raised KeyError 'height' deep in the loader
    mask = samples.mask_loader(0)
    assert mask.shape == (H, W) and mask[4, 4] == 1


def test_coco_semantic_box_only_annotation_stops_naming_it(tmp_path):
    data = coco_dict(1)
    del data["annotations"][0]["segmentation"]
    samples = semantic(tmp_path, data)
    one_line_error(samples.mask_loader, 0, match="annotation 1 of image 1 has no 'segmentation'")


def test_coco_semantic_malformed_polygon_names_the_annotation(tmp_path):
    data = coco_dict(1)
    data["annotations"][0]["segmentation"] = [[2, 2, 6, 2, 6]]
    samples = semantic(tmp_path, data)  # pycocotools painted nothing here: a silently empty mask
    one_line_error(samples.mask_loader, 0, match="annotation 1 of image 1: polygon 0 has 5 coordinates")


def test_coco_semantic_annotation_of_an_unlisted_image_is_reported(tmp_path):
    data = coco_dict(1)
    data["annotations"][0]["image_id"] = 42
    samples = semantic(tmp_path, data)
    assert samples.problems == [f"{tmp_path / 'ann.json'}: annotation 1 refers to unknown image_id 42"]


# --- YOLO ---

def test_yolo_split_whose_label_folder_is_missing_stops(tmp_path):
    from visiontrain.data.formats.yolo import YoloReader

    data_yaml = write_yolo(tmp_path, {"train": {"a": "0 0.5 0.5 0.2 0.2\n"}, "val": {"b": None, "c": None}})
    one_line_error(YoloReader(str(data_yaml)).load_index,
                   match=f"{tmp_path / 'labels' / 'val'}: no label file for any of the 2 'val' images")


def test_yolo_some_images_without_labels_are_negatives_counted_in_a_note(tmp_path):
    from visiontrain.data.formats.yolo import YoloReader

    data_yaml = write_yolo(tmp_path, {"train": {"a": "0 0.5 0.5 0.2 0.2\n", "b": None, "c": ""}})
    index = YoloReader(str(data_yaml)).load_index()
    assert [len(r.labels) for r in index.records] == [1, 0, 0]
    assert index.notes == [f"{data_yaml}: 1 of 3 'train' images have no label file: read as images without objects"]


def test_yolo_single_class_detection_is_accepted(tmp_path):
    from visiontrain.data.formats.yolo import YoloReader

    data_yaml = write_yolo(tmp_path, {"train": {"a": "0 0.5 0.5 0.2 0.2\n"}}, names=["person"])
    index = YoloReader(str(data_yaml)).load_index()
    assert index.class_names == ["person"] and len(index.records[0].labels) == 1


# --- ImageFolder and classification ---

def folder_index(root):
    from visiontrain.data.formats.image_folder import ImageFolderReader

    return ImageFolderReader(str(root)).load_index()


def test_image_folder_empty_class_folder_in_train_stops(tmp_path):
    write_image_folder(tmp_path, {"train/cat": 3, "train/dog": 0, "val/cat": 1})
    one_line_error(folder_index, tmp_path, match=f"{tmp_path / 'train' / 'dog'}: class folder has no image files")


def test_image_folder_empty_class_folder_in_val_is_noted(tmp_path):
    write_image_folder(tmp_path, {"train/cat": 3, "train/dog": 3, "val/cat": 1, "val/dog": 0})
    images = folder_index(tmp_path)
    assert images.notes == [f"{tmp_path / 'val' / 'dog'}: class folder has no image files"]


@pytest.mark.parametrize("layout", [{"Train/cat": 2, "Train/dog": 2, "val/cat": 1, "val/dog": 1},
                                    {"train/cat": 2, "train/dog": 2, "Train/cat": 1, "val/dog": 1},
                                    {"train/cat": 2, "train/dog": 2, "VAL/cat": 1}])
def test_split_folders_differing_only_in_case_stop(tmp_path, layout):
    write_image_folder(tmp_path, layout)
    one_line_error(folder_index, tmp_path, match="differs from")


def test_image_folder_ignores_macos_archive_folders(tmp_path):
    write_image_folder(tmp_path, {"cat": 2, "dog": 2, "__MACOSX/cat": 2})
    assert folder_index(tmp_path).class_names == ["cat", "dog"]


def test_image_folder_class_misspelt_once_is_warned(tmp_path):
    write_image_folder(tmp_path, {"person": 12, "persn": 1, "car": 12})
    images = folder_index(tmp_path)
    assert images.class_names == ["car", "persn", "person"]  # still read as the folders say
    assert len(images.notes) == 1 and "'persn' (1 samples) looks like 'person' (12 samples)" in images.notes[0]


def test_classification_with_a_single_class_stops(tmp_path):
    from visiontrain.data.classification import ClassificationDataModule
    from visiontrain.data.formats.image_folder import ImageFolderReader

    write_image_folder(tmp_path, {"cat": 4})
    dm = ClassificationDataModule(ImageFolderReader(str(tmp_path)))
    one_line_error(dm.setup, "fit", match="only one class (cat); classification needs at least two")


# --- mask folders ---

def binary_masks(n=3):
    masks = []
    for k in range(n):
        m = np.zeros((H, W), np.uint8)
        m[2:6, 2 + k:8] = 255
        masks.append(m)
    return masks


def test_masks_saved_as_0_255_are_warned_with_the_setting(tmp_path, caplog):
    from visiontrain.data.formats.mask_folder import MaskFolderReader
    from visiontrain.data.segmentation import SegmentationDataModule

    write_mask_folder(tmp_path, binary_masks())
    dm = SegmentationDataModule(MaskFolderReader(str(tmp_path)), val_fraction=0, test_fraction=0)
    dm.setup("fit")
    assert "3 masks contain only 0 and 255" in caplog.text and "data.source.mask_values={255: 1}" in caplog.text


def test_mask_values_setting_maps_255_to_the_foreground(tmp_path, caplog):
    from visiontrain.data.formats.mask_folder import MaskFolderReader
    from visiontrain.data.segmentation import SegmentationDataModule

    write_mask_folder(tmp_path, binary_masks())
    dm = SegmentationDataModule(MaskFolderReader(str(tmp_path), mask_values={255: 1}), val_fraction=0,
                                test_fraction=0)
    dm.setup("fit")
    assert "only 0 and 255" not in caplog.text
    assert set(np.unique(dm.samples.mask_loader(0)).tolist()) == {0, 1}


def test_mask_values_is_a_config_key(tmp_path):
    from helpers import compose_cfg
    from visiontrain.config.validation import validate_config

    cfg = compose_cfg(["data=mask_folder", f"data.source.root={tmp_path}", "data.source.mask_values={255: 1}",
                       "model=unet"], tmp_path)
    validate_config(cfg)
    assert dict(cfg.data.source.mask_values) == {255: 1}


def test_mask_folder_split_spelt_in_capitals_stops(tmp_path):
    from visiontrain.data.formats.mask_folder import MaskFolderReader

    write_mask_folder(tmp_path / "Train", binary_masks(1))
    (tmp_path / "classes.txt").write_text("background\nobject\n")
    one_line_error(MaskFolderReader(str(tmp_path)).load_index, match=f"{tmp_path / 'Train'}: split folder 'Train'")


# --- VOC ---

def test_voc_class_name_misspelt_once_is_warned(tmp_path):
    from visiontrain.data.formats.voc import VocReader

    objects = {f"i{k}": [("person", (2, 2, 8, 8))] for k in range(8)}
    objects["i8"] = [("peson", (2, 2, 8, 8))]
    index = VocReader(str(write_voc(tmp_path, objects)), val=None).load_index()
    assert index.class_names == ["person", "peson"] or "peson" in index.class_names
    assert len(index.notes) == 1 and "'peson' (1 samples) looks like 'person' (8 samples)" in index.notes[0]


def test_voc_object_without_a_name_stops(tmp_path):
    from visiontrain.data.formats.voc import VocReader

    root = write_voc(tmp_path, {"i0": [("", (2, 2, 8, 8))]})
    one_line_error(VocReader(str(root), val=None).load_index, match="i0.xml: an <object> has no <name>")
