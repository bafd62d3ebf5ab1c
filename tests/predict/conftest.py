"""One tiny digits classifier and one tiny U-Net, trained once for the predict/export tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.utils.job import run_job


def _train(tmp: Path, overrides: list[str]) -> Path:
    cfg = compose_cfg([*FAST, "test=false", *overrides], tmp)
    run_job(cfg, train)
    ckpt = tmp / "run" / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    return ckpt


@pytest.fixture(scope="package")
def classifier_ckpt(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("cls"), ["data=digits", "data.image_size=16"])


@pytest.fixture(scope="package")
def segmenter_ckpt(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("seg"), ["experiment=seg_shapes_unet", *FAST, "data.source.count=24",
                                                   "data.image_size=32", "data.source.image_size=32"])


@pytest.fixture(scope="package")
def image_folder(tmp_path_factory) -> Path:
    """Three RGB images of different sizes, one in a subfolder."""
    root = tmp_path_factory.mktemp("images")
    (root / "sub").mkdir()
    rng = np.random.default_rng(0)
    for name, size in (("a.png", (20, 24)), ("b.jpg", (16, 16)), ("sub/c.png", (40, 30))):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(root / name)
    return root
