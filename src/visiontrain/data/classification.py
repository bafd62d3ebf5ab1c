"""Image classification datamodule: any reader (ImageFolder, digits, generated shapes, torchvision datasets),
seeded splits, Albumentations pipelines from the config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import Dataset

from visiontrain.data.augment import build_pipeline
from visiontrain.data.bad_samples import BadSamples, describe_source, load_or_skip, require_nonempty
from visiontrain.data.formats.images import image_size
from visiontrain.data.formats.labelled_images import LabelledImages
from visiontrain.data.split_loaders import SplitLoaders
from visiontrain.data.splits import complete_splits, per_class_subset
from visiontrain.errors import DataError

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


class ClassificationDataModule(SplitLoaders, pl.LightningDataModule):
    """``batch_size`` is per device (each DDP process loads that many)."""

    def __init__(
        self,
        source: Any,
        train_transforms: Sequence[Any] | None = None,
        eval_transforms: Sequence[Any] | None = None,
        image_size: int | None = None,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        train_per_class: int | None = None,
        on_bad_sample: Literal["error", "skip"] = "error",  # see visiontrain.data.bad_samples
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.source = source
        self.train_transform = build_pipeline(train_transforms)
        self.eval_transform = build_pipeline(eval_transforms)
        self.image_size = image_size  # what the pipelines resize to; predict/export read it
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed
        self.train_per_class = train_per_class
        self.bad = BadSamples(on_bad_sample)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size or batch_size
        self.loader_kwargs = {"num_workers": num_workers, "pin_memory": pin_memory,
                              "persistent_workers": persistent_workers and num_workers > 0}
        self.images: LabelledImages | None = None
        self.splits: dict[str, np.ndarray] = {}

    @property
    def class_names(self) -> list[str]:
        self._index()
        return list(self.images.class_names)

    def prepare_data(self) -> None:
        self.source.prepare()

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

    def _dataset(self, split: str, transform) -> ClassificationDataset:
        self._index()
        return ClassificationDataset(self.images, self.splits.get(split, np.array([], dtype=np.int64)), transform,
                                     self.bad)
