"""Bad segmentation data: one line naming the file, or a counted skip with data.on_bad_sample=skip."""

import numpy as np
import pytest

from seg_fixtures import simple_mask, write_pair
from visiontrain.data.formats.mask_folder import MaskFolderReader
from visiontrain.data.segmentation import SegmentationDataModule
from visiontrain.errors import DataError


def _dm(root, on_bad_sample="raise"):
    dm = SegmentationDataModule(MaskFolderReader(str(root), class_names=["bg", "a", "b"]), val_fraction=0.0,
                                test_fraction=0.0, on_bad_sample=on_bad_sample)
    dm.setup("fit")
    return dm


def _one_line_error(root, match):
    with pytest.raises(DataError, match=match) as err:
        _dm(root)
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.fixture
def good(tmp_path):
    for i in range(3):
        write_pair(tmp_path, f"ok{i}", simple_mask(label=2))
    return tmp_path


def test_mask_of_wrong_size(good):
    write_pair(good, "bad", simple_mask(), image_size=(16, 20))
    msg = _one_line_error(good, "mask is 16x16 but its image")
    assert "bad.png" in msg and "bad.jpg" in msg


def test_class_id_beyond_num_classes(good):
    write_pair(good, "bad", simple_mask(label=7))
    assert "bad.png" in _one_line_error(good, r"class ids \[7\] outside 0..2")


def test_ignore_value_is_not_an_error(good):
    mask = simple_mask(label=1)
    mask[0] = 255
    write_pair(good, "ignored", mask)
    assert len(_dm(good).splits["train"]) == 4


def test_rgb_colour_mask(good):
    from PIL import Image

    colour = np.zeros((16, 16, 3), np.uint8)
    colour[4:12, 4:12] = (255, 0, 0)
    write_pair(good, "bad", simple_mask())
    Image.fromarray(colour).save(good / "masks" / "bad.png")
    assert "bad.png" in _one_line_error(good, "RGB colour mask")


def test_image_without_mask(good):
    write_pair(good, "lonely", simple_mask())
    (good / "masks" / "lonely.png").unlink()
    assert "lonely.jpg" in _one_line_error(good, "no mask")


def test_empty_mask_folder(tmp_path):
    write_pair(tmp_path, "a", simple_mask())
    (tmp_path / "masks" / "a.png").unlink()
    _one_line_error(tmp_path, "mask folder is empty")


def test_skip_counts_and_drops_bad_samples(good, caplog):
    write_pair(good, "wrong_size", simple_mask(), image_size=(8, 8))
    write_pair(good, "wrong_id", simple_mask(label=9))
    write_pair(good, "no_mask", simple_mask())
    (good / "masks" / "no_mask.png").unlink()
    dm = _dm(good, "skip")
    assert len(dm.splits["train"]) == 3 and len(dm.skipped) == 3
    assert "skipped 3 unusable samples" in caplog.text
    images, masks = next(iter(dm.train_dataloader()))
    assert images.shape == (3, 3, 16, 16) and masks.dtype.is_floating_point is False
