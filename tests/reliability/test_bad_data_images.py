"""Broken and unusual image files through every reader and datamodule: broken ones give one line naming the file,
or with data.on_bad_sample=skip a counted skip listed in the run dir; unusual ones load as the right RGB pixels."""

from pathlib import Path

import numpy as np
import pytest
from bad_corpus import (
    BOX,
    BROKEN_IMAGES,
    IMAGE_READERS,
    UNUSUAL_IMAGES,
    FakeTrainer,
    H,
    W,
    coco,
    datamodule,
    every_batch,
    loaded_images,
    write_unusual,
)

from visiontrain.data.bad_samples import LIST_FILE
from visiontrain.errors import DataError


def assert_one_line(exc: BaseException, file: str, *words: str) -> None:
    message = str(exc)
    assert "\n" not in message, message
    assert file in message, message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("kind", IMAGE_READERS)
@pytest.mark.parametrize("broken", ["zero.png", "text.jpg"])
def test_unreadable_file_stops_setup_with_one_line_naming_it(tmp_path, kind, broken):
    dm = datamodule(kind, tmp_path / "data", planted=(broken,))
    with pytest.raises(DataError) as err:
        dm.setup("fit")  # headers are read while indexing: found before any training step
    reason = "empty file, 0 bytes" if broken == "zero.png" else "not in an image format"
    assert_one_line(err.value, broken, "unreadable image", reason, "data.on_bad_sample=skip")


@pytest.mark.parametrize("kind", IMAGE_READERS)
def test_truncated_jpeg_error_names_the_file_when_its_pixels_are_read(tmp_path, kind):
    dm = datamodule(kind, tmp_path / "data", planted=("truncated.jpg",))
    with pytest.raises(DataError) as err:
        every_batch(dm)
    assert_one_line(err.value, "truncated.jpg", "unreadable image", "image file is truncated")


@pytest.mark.parametrize("kind", IMAGE_READERS)
@pytest.mark.parametrize("broken", BROKEN_IMAGES)
def test_skip_counts_the_broken_file_and_lists_it_in_the_run_dir(tmp_path, kind, broken, caplog):
    dm = datamodule(kind, tmp_path / "data", "skip", planted=(broken,))
    dm.trainer = FakeTrainer(tmp_path / "run")
    seen = every_batch(dm)
    listed = (tmp_path / "run" / LIST_FILE).read_text("utf-8").splitlines()
    assert [line for line in listed if broken in line] == listed and len(listed) == 1, listed
    assert "unreadable image" in listed[0]
    if broken == "truncated.jpg" and kind != "style":  # only its pixels fail: replaced when loaded, logged by name
        assert f"skipped while loading (data.on_bad_sample=skip): {listed[0]}" in caplog.text
    else:  # found while indexing (style decodes its few images there): counted and summarised at setup
        assert "skipped 1 unusable samples (data.on_bad_sample=skip)" in caplog.text
        assert len(dm.bad.lines) == 1 and sum(dm.bad.counts.values()) == 1
    assert seen > 0


@pytest.mark.parametrize("kind", IMAGE_READERS)
def test_unusual_but_valid_images_load_as_rgb(tmp_path, kind):
    dm = datamodule(kind, tmp_path / "data", planted=UNUSUAL_IMAGES)
    assert every_batch(dm) > 0
    images = loaded_images(dm)
    for name in UNUSUAL_IMAGES:
        expected = write_unusual(tmp_path / "expected" / name)
        got = images[Path(name).stem]
        assert got.dtype == np.uint8 and got.shape == (H, W, 3), (name, got.shape)
        if name.endswith(".jpg"):  # lossy: the same picture within JPEG error
            assert np.abs(got.astype(int) - expected).mean() < 3, name
        else:
            np.testing.assert_array_equal(got, expected, err_msg=name)


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    from visiontrain.imaging import read_rgb

    Image.fromarray(np.array([[0, 257, 32896, 65535]], np.uint16)).save(tmp_path / "a.png")
    assert read_rgb(tmp_path / "a.png")[0, :, 0].tolist() == [0, 1, 128, 255]
    Image.fromarray(np.array([[0, 100, 200]], np.uint16)).save(tmp_path / "dark.png")  # dark, still 16-bit
    assert read_rgb(tmp_path / "dark.png")[0, :, 0].tolist() == [0, 0, 1]


@pytest.mark.parametrize("kind", ["yolo", "coco", "voc", "instance_masks", "localization", "mask_folder"])
def test_exif_rotated_jpeg_annotations_are_in_the_displayed_orientation(tmp_path, kind):
    """Readers apply EXIF orientation; annotations (boxes, masks) are read in the orientation a viewer shows."""
    dm = datamodule(kind, tmp_path / "data", planted=("exif_rotated.jpg",))
    dm.setup("fit")
    x1, y1, x2, y2 = BOX
    if kind == "mask_folder":
        i = [Path(p).name for p in dm.samples.images].index("exif_rotated.jpg")
        image, mask = dm.samples.load(i)
        assert mask.shape == (H, W) and set(np.unique(mask[y1:y2, x1:x2])) == {1}
    else:
        i = [r.path.name for r in dm.index.records].index("exif_rotated.jpg")
        sample = dm.index.load(i)
        image = sample["image"]
        np.testing.assert_allclose(sample["boxes"], [BOX], atol=1e-3)
        assert (dm.index.records[i].width, dm.index.records[i].height) == (W, H)
    assert image.shape == (H, W, 3)
    inside = image[y1 + 2:y2 - 2, x1 + 2:x2 - 2].reshape(-1, 3).mean(axis=0)
    assert inside[0] > 200 and inside[1] < 80, inside  # the red block is where the annotation says


def test_coco_size_of_the_stored_not_displayed_image_is_named(tmp_path):
    from visiontrain.data.formats.coco import CocoReader, CocoSplit

    coco(tmp_path, planted_images=("exif_rotated.jpg",), sizes={"exif_rotated.jpg": (H, W)})
    with pytest.raises(DataError) as err:
        CocoReader(str(tmp_path), CocoSplit("ann.json", "images")).load_index()
    assert_one_line(err.value, "exif_rotated.jpg", f"image is {W}x{H} after EXIF orientation",
                    f"ann.json says {H}x{W}", "annotate the image as displayed")
