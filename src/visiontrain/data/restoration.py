"""Image-to-image datamodule (denoising, inpainting, compression): random crops of whole images, corrupted on the
fly by Albumentations pipelines from the config.

Images, not crops, are split into train/val/test, so evaluation never sees a part of a training image. Training
draws fresh random crops and corruptions every epoch; val/test crops and corruptions are seeded per item, so every
epoch (and every model) is scored on the same inputs. A batch is a dict: ``input`` (the corrupted image), ``target``
(the clean crop), ``mask`` (1 where pixels are missing, for inpainting; zeros otherwise); all float [0, 1].
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from visiontrain.data.bad_samples import BadSamples, load_or_skip, require_nonempty
from visiontrain.data.base import VisionDataModule
from visiontrain.data.splits import complete_splits
from visiontrain.errors import ConfigError, DataError
from visiontrain.imaging import image_size

log = logging.getLogger(__name__)


def _compose(transforms: Sequence[Any] | None):
    import albumentations as A

    return A.Compose(list(transforms or []))


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255.0)  # a copy: crops may be read-only views


class CropDataset(Dataset):
    """``crops``: (image index, top, left) for fixed crops, or None for random crops (``length`` of them)."""

    def __init__(self, loaders: list, crop_size: int, augment, corruption, holes, length: int,
                 crops: list[tuple[int, int, int]] | None = None, seed: int | None = None,
                 bad: BadSamples | None = None) -> None:
        self.loaders, self.crop_size, self.length, self.crops, self.seed = loaders, crop_size, length, crops, seed
        self.augment, self.corruption, self.holes = augment, corruption, holes
        self.bad = bad or BadSamples()

    def __len__(self) -> int:
        return self.length

    def _crop(self, i: int, rng: np.random.Generator) -> np.ndarray:
        if self.crops is not None:
            j, top, left = self.crops[i]
        else:
            j, top, left = i % len(self.loaders), None, None
        image = pad_to(self.loaders[j](), self.crop_size)
        h, w = image.shape[:2]
        if top is None:
            top, left = int(rng.integers(0, h - self.crop_size + 1)), int(rng.integers(0, w - self.crop_size + 1))
        return image[top:top + self.crop_size, left:left + self.crop_size]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return load_or_skip(self.length, i, self._item, self.bad)

    def _item(self, i: int) -> dict[str, torch.Tensor]:
        if self.seed is not None:  # evaluation: the same corruption for item i every time
            for pipeline in (self.augment, self.corruption, self.holes):
                pipeline.set_random_seed(self.seed + i)
            rng = np.random.default_rng(self.seed + i)
        else:  # follows torch's seed (seed_everything seeds each worker)
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,))))
            for pipeline in (self.augment, self.corruption, self.holes):
                pipeline.set_random_seed(int(rng.integers(0, 2**31 - 1)))
        clean = self.augment(image=self._crop(i, rng))["image"]
        noisy = self.corruption(image=clean)["image"]
        holes = self.holes(image=noisy, mask=np.zeros(clean.shape[:2], dtype=np.uint8))["mask"]
        return {"input": _to_tensor(noisy), "target": _to_tensor(clean),
                "mask": torch.from_numpy((holes > 0).astype(np.float32))[None]}


def pad_to(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    if h >= size and w >= size:
        return image
    return np.pad(image, ((0, max(0, size - h)), (0, max(0, size - w)), (0, 0)), mode="reflect")


class RestorationDataModule(VisionDataModule):
    """Random crops of ``crop_size`` for training (``train_crops`` per epoch), fixed crops for evaluation; the
    target is the clean crop, the input the same crop after ``corruption`` (and ``holes`` for inpainting)."""

    def __init__(self, source: Any, crop_size: int = 64, train_crops: int = 2000, eval_crops_per_image: int = 8,
                 train_transforms: Sequence[Any] | None = None, corruption: Sequence[Any] | None = None,
                 holes: Sequence[Any] | None = None, batch_size: int = 32, **shared: Any) -> None:
        if crop_size < 8:
            raise ConfigError(f"data.crop_size: at least 8 pixels, got {crop_size}")
        super().__init__(source, train_transforms, None, batch_size=batch_size, **shared)
        self.crop_size, self.train_crops, self.eval_crops_per_image = crop_size, train_crops, eval_crops_per_image
        self.corruption, self.holes = _compose(corruption), _compose(holes)
        self.image_size = crop_size
        self.items: list | None = None

    def make_pipeline(self, transforms: Sequence[Any] | None, **options: Any) -> Any:
        return _compose(transforms)  # on uint8 crops, before the corruption (no tensor conversion)

    def _index(self) -> None:
        if self.items is not None:
            return
        # headers only (no decoding): missing, empty and non-image files are found before training
        self.items = [(name, load) for name, load in self.source.load_index() if not hasattr(load, "path")
                      or self.bad.guard("unreadable images skipped", image_size, load.path) is not None]
        names = [name for name, _ in self.items]
        # stratify bundled photographs apart from generated shapes images, so each split gets some of both
        kinds = np.array([0 if name.startswith("skimage.data.") else 1 for name in names])
        if len(set(kinds.tolist())) > 1 and min(np.bincount(kinds)) < 4:
            kinds[:] = 0
        self.splits = complete_splits(kinds, {}, self.val_fraction, self.test_fraction, self.seed)
        require_nonempty(self.splits, self.source, self.bad)
        sizes = ", ".join(f"{k}={len(v)} images" for k, v in self.splits.items())
        log.info(f"{type(self.source).__name__}: {sizes}; crops of {self.crop_size} px")

    def _loaders(self, split: str) -> list:
        self._index()
        return [self.items[int(i)][1] for i in self.splits.get(split, [])]

    def _fixed_crops(self, loaders: list, salt: int) -> list[tuple[int, int, int]]:
        rng = np.random.default_rng(self.seed + salt)
        crops = []
        for j, load in enumerate(loaders):
            try:
                h, w = pad_to(load(), self.crop_size).shape[:2]
            except DataError as exc:  # pixels that fail to decode (a truncated file): no crops from this image
                if not self.bad.skip:
                    raise
                self.bad.skipped_at_load(str(exc))
                continue
            positions = (h - self.crop_size + 1) * (w - self.crop_size + 1)  # an image of crop size has one
            for _ in range(min(self.eval_crops_per_image, positions)):
                crops.append((j, int(rng.integers(0, h - self.crop_size + 1)),
                              int(rng.integers(0, w - self.crop_size + 1))))
        return crops

    def _eval_dataset(self, split: str, salt: int) -> CropDataset:
        loaders = self._loaders(split)
        crops = self._fixed_crops(loaders, salt)
        return CropDataset(loaders, self.crop_size, self.eval_transform, self.corruption, self.holes, len(crops),
                           crops, seed=self.seed * 100_003 + salt * 10_007, bad=self.bad)

    def _dataset(self, split: str) -> CropDataset:
        if split == "train":
            return CropDataset(self._loaders("train"), self.crop_size, self.train_transform, self.corruption,
                               self.holes, self.train_crops, bad=self.bad)
        return self._eval_dataset(split, {"val": 1, "test": 2}[split])

    def train_loader(self) -> DataLoader:
        return DataLoader(self._dataset("train"), batch_size=self.batch_size, shuffle=True, drop_last=True,
                          **self.loader_kwargs)
