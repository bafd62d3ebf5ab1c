"""Tiny checkpoints (classifier, U-Net, restorers, a style run), each trained once for the predict/export tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job


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


RESTORE_SMALL = ("data.source.names=[astronaut,coffee,chelsea,brick]", "data.source.shapes_count=8",
                 "data.crop_size=32", "data.eval_crops_per_image=1", "data.batch_size=8", "model.log_images=0")


def _train_restorer(tmp_path_factory, data_dir, experiment: str, width_key: str) -> Path:
    tmp = tmp_path_factory.mktemp(experiment)
    cfg = compose_cfg([*FAST, "test=false", f"experiment={experiment}", *RESTORE_SMALL, f"{width_key}.base_width=8"],
                      tmp, data_dir)
    run_job(cfg, train)
    return tmp / "run" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="package")
def denoise_ckpt(tmp_path_factory, data_dir) -> Path:
    return _train_restorer(tmp_path_factory, data_dir, "restore_denoise", "model.unet")


@pytest.fixture(scope="package")
def inpaint_ckpt(tmp_path_factory, data_dir) -> Path:
    return _train_restorer(tmp_path_factory, data_dir, "restore_inpaint", "model.unet")


@pytest.fixture(scope="package")
def compress_ckpt(tmp_path_factory, data_dir) -> Path:
    return _train_restorer(tmp_path_factory, data_dir, "restore_compress", "model.autoencoder")


@pytest.fixture(scope="package")
def style_run(tmp_path_factory, data_dir) -> Path:
    """A 32 px style run with colour preservation (the stored image is luminance only; predict adds the colours)."""
    tmp = tmp_path_factory.mktemp("style")
    cfg = compose_cfg(["experiment=style_transfer", *FAST, "test=false", "data.image_size=32",
                       "data.steps_per_epoch=2", "model.lbfgs_max_iter=2", "model.snapshot_every=0",
                       "model.network=vgg11", "model.preserve_color=luminance"], tmp, data_dir)
    run_job(cfg, train)
    return tmp / "run"
