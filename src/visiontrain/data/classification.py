"""Image classification datamodule: any reader (ImageFolder, digits, generated shapes, torchvision datasets),
seeded splits, Albumentations pipelines from the config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from visiontrain.data.bad_samples import BadSamples, describe_source, load_or_skip, require_nonempty
from visiontrain.data.base import VisionDataModule
from visiontrain.data.formats.labelled_images import LabelledImages
from visiontrain.data.splits import complete_splits, per_class_subset
from visiontrain.errors import DataError
from visiontrain.imaging import image_size

log = logging.getLogger(__name__)


class ClassificationDataset(Dataset):
    def __init__(self, images: LabelledImages, indices: np.ndarray, transform, bad: BadSamples | None = None) -> None:
        self.images, self.indices, self.transform = images, indices, transform
        self.bad = bad or BadSamples()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return load_or_skip(len(self.indices), i, self._item, self.bad)

    def _item(self, i: int) -> tuple[torch.Tensor, int]:
        j = int(self.indices[i])
        image = self.images.load(j)
        return self.transform(image=image)["image"], int(self.images.labels[j])


def check_files(images: LabelledImages, bad: BadSamples) -> LabelledImages:
    """Read every file's header (cheap: no decoding): missing, empty and non-image files are found before
    training, as an error naming the file or (skip) a counted skip."""
    keep = [i for i, item in enumerate(images.items) if not isinstance(item, (str, Path))
            or bad.guard("unreadable images skipped", image_size, item) is not None]
    return images if len(keep) == len(images.items) else images.subset(np.asarray(keep, dtype=np.int64))


class ClassificationDataModule(VisionDataModule):
    """The shared settings are VisionDataModule's; ``train_per_class`` keeps that many training images per class
    (few-label studies)."""

    def __init__(self, source: Any, train_transforms: Sequence[Any] | None = None,
                 eval_transforms: Sequence[Any] | None = None, image_size: int | None = None,
                 train_per_class: int | None = None, batch_size: int = 64, **shared: Any) -> None:
        super().__init__(source, train_transforms, eval_transforms, batch_size=batch_size, **shared)
        self.image_size = image_size  # what the pipelines resize to; predict/export read it
        self.train_per_class = train_per_class
        self.images: LabelledImages | None = None

    @property
    def class_names(self) -> list[str]:
        self._index()
        return list(self.images.class_names)

    def _index(self) -> None:
        if self.images is not None:
            return
        images = self.source.load_index()
        if len(images.class_names) < 2:  # one output that is always right: training would "succeed" at 100 %
            raise DataError(f"{describe_source(self.source)}: only one class ({', '.join(map(str, images.class_names))});"
                            " classification needs at least two (for one kind of object, detect it instead)")
        self.images = check_files(images, self.bad)
        splits = complete_splits(self.images.labels, self.images.splits, self.val_fraction, self.test_fraction,
                                 self.seed)
        if self.train_per_class:
            splits["train"] = per_class_subset(splits["train"], self.images.labels, self.train_per_class, self.seed)
        self.splits = splits
        require_nonempty(splits, self.source, self.bad)
        sizes = ", ".join(f"{k}={len(v)}" for k, v in splits.items())
        log.info(f"{type(self.source).__name__}: {len(self.images.class_names)} classes, {sizes}")

    def _dataset(self, split: str) -> ClassificationDataset:
        self._index()
        return ClassificationDataset(self.images, self.splits.get(split, np.array([], dtype=np.int64)),
                                     self.transform_for(split), self.bad)
