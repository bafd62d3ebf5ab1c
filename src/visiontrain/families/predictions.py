"""Shared pieces of `vt-predict`: the input images, the eval preprocessing read from a checkpoint's config, and the
base class of the per-family prediction writers (each family's ``models/<family>/predictions.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pytorch_lightning.callbacks import BasePredictionWriter

from visiontrain.errors import ConfigError, DataError
from visiontrain.imaging import read_rgb  # the training reader: EXIF orientation, 16-bit, palette, …

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(path: str | Path) -> tuple[list[Path], Path]:
    """The image files under ``path`` (a file or a folder, searched recursively) and the root names are relative to."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"input={path}: not an image file (expected one of {', '.join(sorted(IMAGE_SUFFIXES))})")
        return [path], path.parent
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"input={path}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files, path
    raise DataError(f"input={path}: no such file or folder")


def eval_pipeline(stored_config: dict[str, Any], trusted: Any = None):
    """The validation preprocessing of the run that wrote the checkpoint. Only Albumentations transforms (and those
    of trusted packages) are instantiated from it: a checkpoint must not decide which other code runs."""
    from hydra.utils import instantiate

    from visiontrain.data.augment import build_pipeline
    from visiontrain.families.trust import how_to_trust, is_trusted, trusted_modules

    steps = (stored_config.get("data") or {}).get("eval_transforms") or []
    allowed = ("albumentations", *trusted_modules(trusted))
    for i, step in enumerate(steps):
        target = str(step.get("_target_", "")) if isinstance(step, dict) else ""
        if not is_trusted(target, allowed):
            raise ConfigError(f"data.eval_transforms[{i}]: '{target}' is not an Albumentations transform; "
                              f"refusing to instantiate it from a checkpoint ({how_to_trust(target)})")
    return build_pipeline([instantiate(step) for step in steps])


class PredictImages(torch.utils.data.Dataset):
    """(preprocessed image, index): writers look the file and its original size up by index."""

    def __init__(self, files: Sequence[Path], transform) -> None:
        self.files, self.transform = list(files), transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(image=read_rgb(self.files[i]))["image"], i


def collate(stack: bool):
    def fn(batch):
        images = [b[0] for b in batch]
        index = torch.tensor([b[1] for b in batch])
        same = all(im.shape == images[0].shape for im in images)
        return (torch.stack(images) if stack and same else images), index
    return fn


class PredictionWriter(BasePredictionWriter):
    """Base of the family writers. ``stack``: whether the module takes one batched tensor (False: a list of images
    of any size, as torchvision detectors do). Subclasses implement ``write(files, images, outputs)`` per batch and
    ``finish()`` (returns the number of items written)."""

    stack = True
    collate = None  # a collate_fn of its own (None: collate(stack))

    def __init__(self, out_dir: str | Path, files: Sequence[Path], root: Path, options: dict[str, Any]) -> None:
        super().__init__(write_interval="batch")
        self.out_dir, self.files, self.root, self.options = Path(out_dir), list(files), Path(root), options
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def relative(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix()

    def output_path(self, file: Path, folder: str, suffix: str) -> Path:
        """``<out>/<folder>/<path relative to the input root>`` with ``suffix``: subfolders keep same-named files apart."""
        path = self.out_dir / folder / Path(self.relative(file)).with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        index = batch[1].tolist()
        self.write([self.files[i] for i in index], batch[0], prediction)

    def dataset(self, stored_config: dict[str, Any]) -> torch.utils.data.Dataset | None:
        """A dataset of its own (restoration reads masks; YOLO letterboxes in the module); None: the files through
        the checkpoint's eval_transforms."""
        return None

    def write(self, files: list[Path], images, outputs) -> None:
        raise NotImplementedError

    def finish(self) -> dict[str, Any]:
        raise NotImplementedError


def write_json(path: Path, data: Any) -> Path:
    import json

    path.write_text(json.dumps(data, indent=1))
    return path


def save_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)
