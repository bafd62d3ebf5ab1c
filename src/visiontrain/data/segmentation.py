"""Semantic-segmentation datamodule: any source giving SegmentationSamples (mask folders, COCO, generated shapes),
every sample checked before training, seeded splits, Albumentations pipelines applied to image and mask together."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from visiontrain.data.base import VisionDataModule
from visiontrain.data.bad_samples import HINT, BadSamples, load_or_skip, require_nonempty
from visiontrain.data.check_cache import check_samples
from visiontrain.data.formats.segmentation_samples import BINARY_255, IGNORE_INDEX, SegmentationSamples, check_sample
from visiontrain.data.splits import complete_splits
from visiontrain.errors import DataError

log = logging.getLogger(__name__)


class SegmentationDataset(Dataset):
    def __init__(self, samples: SegmentationSamples, indices: np.ndarray, transform,
                 bad: BadSamples | None = None) -> None:
        self.samples, self.indices, self.transform = samples, indices, transform
        self.bad = bad or BadSamples()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = load_or_skip(len(self.indices), i, lambda k: self.samples.load(int(self.indices[k])), self.bad)
        out = self.transform(image=image, mask=mask)
        return out["image"], out["mask"].long()


class SegmentationDataModule(VisionDataModule):
    """``batch_size`` is per device. ``on_bad_sample``: ``error`` stops at the first unusable sample (wrong mask size,
    class id beyond the classes, colour mask, image without mask, unreadable image) naming its file; ``skip`` drops
    them, counts them and lists them in the run dir (see ``visiontrain.data.bad_samples``). ``raise`` is the
    older spelling of ``error``."""

    def __init__(self, source: Any, train_transforms: Sequence[Any] | None = None,
                 eval_transforms: Sequence[Any] | None = None, image_size: int | None = None,
                 ignore_index: int = IGNORE_INDEX, **shared: Any) -> None:
        super().__init__(source, train_transforms, eval_transforms, **shared)
        self.image_size = image_size  # what the pipelines resize to; predict/export read it
        self.ignore_index = ignore_index
        self.samples: SegmentationSamples | None = None
        self.skipped: list[str] = []

    @property
    def class_names(self) -> list[str]:
        self._index()
        return list(self.samples.class_names)

    def _index(self) -> None:
        if self.samples is not None:
            return
        samples = self.source.load_index()
        problems = list(samples.problems)
        good, seen = [], Counter()

        def check(i: int) -> list:  # the problem, and whether the mask looks like a 0/255 binary one (cached too)
            suspicious = Counter()
            return [check_sample(samples, i, self.ignore_index, suspicious), bool(suspicious[BINARY_255])]

        checks = check_samples([(samples.images[i], samples.mask_names[i]) for i in range(len(samples))], check,
                               "checking masks", depends_on=(self.ignore_index, len(samples.class_names),
                                                             repr(getattr(self.source, "mask_values", None)), 2))
        for i, (problem, binary) in enumerate(checks):  # cached by the files' sizes and mtimes, with progress
            seen[BINARY_255] += binary
            if problem:
                problems.append(problem)
            else:
                good.append(i)
        if problems and not self.bad.skip:  # every problem is found first: the message says how many there are
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DataError(f"{problems[0]}{more} ({HINT})")
        for problem in problems:
            self.bad.add(problem, "unusable samples (missing, unreadable or mismatched mask)")
        if not good:
            raise DataError(f"{type(self.source).__name__}: no usable samples")
        self.skipped = problems
        self.samples = samples if len(good) == len(samples) else samples.subset(np.asarray(good))
        labels = np.zeros(len(self.samples), dtype=np.int64)  # random (unstratified) splits: one pseudo-class
        self.splits = complete_splits(labels, self.samples.splits, self.val_fraction, self.test_fraction, self.seed)
        require_nonempty(self.splits, self.source, self.bad)
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        log.info(f"{type(self.source).__name__}: {len(self.samples.class_names)} classes, {sizes}")
        if seen[BINARY_255] and getattr(self.source, "mask_values", False) is None:  # a reader that can remap
            log.warning(f"{seen[BINARY_255]} {BINARY_255}: 255 is read as 'ignore', so these are background only; "
                        "if 255 is your foreground, set data.source.mask_values={255: 1}")

    def _dataset(self, split: str) -> SegmentationDataset:
        self._index()
        return SegmentationDataset(self.samples, self.splits.get(split, np.array([], dtype=np.int64)),
                                   self.transform_for(split), self.bad)
