"""Property: mask folders and ImageFolder trees, valid or mutated (folders moved, emptied or spelt in capitals, masks
cut, of the wrong size or colour), are read as exactly their samples or refused with one line naming a file."""

from __future__ import annotations

import shutil

import numpy as np
from exporter_corpus import H, W, image, write_image_folder, write_mask_folder
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_corpus import ERROR, SAME, check, outcome, scratch
from PIL import Image

mask = st.lists(st.sampled_from([0, 1, 2, 255]), min_size=H * W, max_size=H * W).map(
    lambda v: np.asarray(v, np.uint8).reshape(H, W))

MASK_MUTATIONS = ["none", "wrong_size", "class_beyond", "rgb_colour", "delete_mask", "cut_mask", "no_classes_txt",
                  "move_masks", "capital_split"]


def _segmentation(root):
    from visiontrain.data.formats.mask_folder import MaskFolderReader
    from visiontrain.data.segmentation import SegmentationDataModule

    dm = SegmentationDataModule(MaskFolderReader(str(root)), val_fraction=0, test_fraction=0)
    dm._index()
    return dm.samples


@given(st.lists(mask, min_size=1, max_size=3), st.sampled_from(MASK_MUTATIONS), st.data())
def test_mask_folder_reads_exactly_the_masks_or_names_the_file(masks, mutation, data):
    with scratch() as root:
        base = root / "train" if mutation == "capital_split" else root
        write_mask_folder(base, masks, classes=("background", "a", "b"))
        k = data.draw(st.integers(0, len(masks) - 1))
        target, expect = base / "masks" / f"{k}.png", ERROR
        if mutation == "none":
            expect = SAME
        elif mutation == "wrong_size":
            Image.fromarray(np.zeros((H + 1, W), np.uint8)).save(target)
        elif mutation == "class_beyond":
            Image.fromarray(np.full((H, W), 7, np.uint8)).save(target)
        elif mutation == "rgb_colour":
            Image.fromarray(np.dstack([masks[k], masks[k] + 1, masks[k]])).save(target)  # channels always differ
        elif mutation == "delete_mask":
            target.unlink()
        elif mutation == "cut_mask":
            target.write_bytes(target.read_bytes()[:data.draw(st.integers(0, 30))])
        elif mutation == "no_classes_txt":
            (root / "classes.txt").unlink()
        elif mutation == "move_masks":
            (root / "masks").rename(root / "labels")
        elif mutation == "capital_split":
            (root / "classes.txt").write_text("background\na\nb\n")
            (root / "train").rename(root / "Train")
        got = outcome(lambda: _segmentation(root), root)
        check("mask_folder", expect, got, [m.tolist() for m in masks],
              lambda s: [s.mask_loader(i).tolist() for i in range(len(s))])


@st.composite
def image_tree(draw) -> dict:
    classes = draw(st.lists(st.sampled_from(["cat", "dog", "bird", "fish"]), min_size=2, max_size=3, unique=True))
    splits = ["train", "val"] if draw(st.booleans()) else [""]
    return {f"{s}/{c}".lstrip("/"): draw(st.integers(1, 3)) for s in splits for c in classes}


FOLDER_MUTATIONS = ["none", "macosx", "empty_train_class", "capital_split", "zero_byte_image", "text_as_image",
                    "extra_class_in_val"]


def _classification(root):
    from visiontrain.data.classification import ClassificationDataModule
    from visiontrain.data.formats.image_folder import ImageFolderReader

    dm = ClassificationDataModule(ImageFolderReader(str(root)), val_fraction=0, test_fraction=0)
    dm._index()
    return dm.images


def _samples(images) -> list:
    return sorted((str(p.parent.name), images.class_names[int(y)], p.name) for p, y in zip(images.items, images.labels))


@given(image_tree(), st.sampled_from(FOLDER_MUTATIONS), st.data())
def test_image_folder_reads_exactly_the_images_or_names_the_file(layout, mutation, data):
    with scratch() as root:
        write_image_folder(root, layout)
        expected = sorted((folder.rsplit("/", 1)[-1], folder.rsplit("/", 1)[-1], f"{k}.png")
                          for folder, n in layout.items() for k in range(n))
        split_layout = any("/" in f for f in layout)
        folder = data.draw(st.sampled_from(sorted(f for f in layout if f.startswith("train/") or not split_layout)))
        expect = ERROR
        if mutation == "none":
            expect = SAME
        elif mutation == "macosx":
            image(root / "__MACOSX" / "cat" / "0.png")
            expect = SAME
        elif mutation == "empty_train_class":
            for p in (root / folder).iterdir():
                p.unlink()
        elif mutation == "capital_split" and split_layout:
            (root / "val").rename(root / "VAL")
        elif mutation == "zero_byte_image":
            (root / folder / "0.png").write_bytes(b"")
        elif mutation == "text_as_image":
            (root / folder / "0.png").write_text("not an image")
        elif mutation == "extra_class_in_val" and split_layout:
            image(root / "val" / "zebra" / "0.png")
        else:
            expect = SAME
        got = outcome(lambda: _classification(root), root)
        check("image_folder", expect, got, expected, _samples)


def test_folder_property_helpers_leave_nothing_behind():
    with scratch() as root:
        (root / "x").mkdir()
    assert not root.exists()
    shutil.rmtree(root, ignore_errors=True)
