"""Content/style inputs: files, folders, bundled and generated images; odd modes and sizes; bad input."""

import numpy as np
import pytest
from PIL import Image

from visiontrain.data.style import StyleDataModule
from visiontrain.errors import ConfigError, DataError


def _pairs(**kwargs):
    dm = StyleDataModule(**{"image_size": 40, **kwargs})
    dm.setup()
    return dm.pairs


def test_grayscale_rgba_and_different_sizes_become_rgb_at_the_configured_size(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (60, 120), dtype=np.uint8), mode="L").save(tmp_path / "gray.png")
    Image.fromarray(rng.integers(0, 256, (90, 30, 4), dtype=np.uint8), mode="RGBA").save(tmp_path / "rgba.png")
    (pair,) = _pairs(content=str(tmp_path / "gray.png"), style=str(tmp_path / "rgba.png"), style_size=48)
    assert pair.name == "gray__rgba"
    assert pair.content.shape == (3, 20, 40)  # longer side = image_size, aspect kept
    assert pair.styles[0].shape == (3, 48, 16)  # longer side = style_size
    assert pair.content.dtype == pair.styles[0].dtype == pair.content.float().dtype
    assert 0.0 <= float(pair.content.min()) and float(pair.content.max()) <= 1.0
    assert pair.content.is_contiguous()
    c = pair.content
    assert np.allclose(c[0], c[1]) and np.allclose(c[1], c[2])  # grey stays grey


def test_folders_pairs_combinations_and_blend(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "content").mkdir(exist_ok=True)
        Image.new("RGB", (32, 32), (200, 10, 10)).save(tmp_path / "content" / f"{name}.jpg")
    (tmp_path / "content" / "notes.txt").write_text("not an image")
    folder = str(tmp_path / "content")
    styles = ["skimage:brick", "generated:painting:3"]
    assert [p.name for p in _pairs(content=folder, style=styles, pairing="pairs")] == ["a__brick", "b__painting3"]
    assert len(_pairs(content=folder, style=styles, pairing="combinations")) == 4
    (blend, _) = _pairs(content=folder, style=styles, pairing="blend", style_weights=[3.0, 1.0])
    assert blend.name == "a__blend" and len(blend.styles) == 2 and blend.style_weights == [0.75, 0.25]


def test_mask_is_resized_to_each_content(tmp_path):
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[:, 5:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    (pair,) = _pairs(content="skimage:chelsea", style="skimage:brick", mask=str(tmp_path / "mask.png"))
    assert pair.mask.shape == (1, *pair.content.shape[1:])
    assert float(pair.mask[0, :, 0].max()) == 0.0 and float(pair.mask[0, :, -1].min()) == 1.0


def test_missing_and_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path}/nope.jpg: no such file or folder"):
        _pairs(content=str(tmp_path / "nope.jpg"))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png: unreadable image"):
        _pairs(style=str(tmp_path / "broken.png"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no image files in this folder"):
        _pairs(content=str(tmp_path / "empty"))


def test_config_mistakes_are_one_line():
    with pytest.raises(ConfigError, match="data.style: 'skimage:monet' is not a bundled image; valid names: .*brick"):
        _pairs(style="skimage:monet")
    with pytest.raises(ConfigError, match="'pairs' needs as many content as style images, got 1 and 2"):
        _pairs(style=["skimage:brick", "skimage:grass"], pairing="pairs")
    with pytest.raises(ConfigError, match="data.style_weights: one weight per style image"):
        _pairs(style=["skimage:brick", "skimage:grass"], pairing="blend", style_weights=[1.0])
