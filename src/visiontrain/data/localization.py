"""Single-object localization datamodule: each image has exactly one object; the target is the lecture's
"vector answer" y = [x, y, w, h, class] with the box normalised to the image (top-left corner, width, height)."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from visiontrain.data.base import VisionDataModule
from visiontrain.data.bad_samples import BadSamples, load_or_skip, require_nonempty
from visiontrain.data.splits import complete_splits
from visiontrain.errors import DataError

log = logging.getLogger(__name__)


class LocalizationDataset(Dataset):
    def __init__(self, index, indices: np.ndarray, transform, fallback, bad: BadSamples | None = None) -> None:
        self.index, self.indices, self.transform, self.fallback = index, indices, transform, fallback
        self.bad = bad or BadSamples()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return load_or_skip(len(self.indices), i, self._item, self.bad)

    def _item(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.index.load(int(self.indices[i]))
        out = self.transform(image=sample["image"], bboxes=sample["boxes"], labels=sample["labels"])
        if len(out["bboxes"]) != 1:  # the augmentation cut the object away: keep the sample, unaugmented
            out = self.fallback(image=sample["image"], bboxes=sample["boxes"], labels=sample["labels"])
        image = out["image"]
        h, w = image.shape[-2:]
        x0, y0, x1, y1 = (float(v) for v in out["bboxes"][0])
        target = torch.tensor([x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h, float(out["labels"][0])])
        return image, target


class LocalizationDataModule(VisionDataModule):
    """``source``: any detection reader (YOLO, COCO, VOC, generated shapes-loc) whose images hold one object each."""

    def __init__(self, source: Any, train_transforms: Sequence[Any] | None = None,
                 eval_transforms: Sequence[Any] | None = None, image_size: int | None = None, batch_size: int = 64,
                 **shared: Any) -> None:
        import albumentations as A

        bbox = A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.5)
        super().__init__(source, train_transforms, eval_transforms, batch_size=batch_size,
                         pipeline_options={"bbox_params": bbox}, **shared)
        self.image_size = image_size
        self.index = None

    @property
    def class_names(self) -> list[str]:
        self._index()
        return list(self.index.class_names)

    def prepare_data(self) -> None:
        self.source.prepare()

    def _index(self) -> None:
        if self.index is not None:
            return
        index = self.source.load_index(self.bad.policy)
        self.bad.lines += index.problems
        self.bad.counts.update(index.skipped_images)
        counts = [len(r.labels) for r in index.records]
        wrong = [str(r.path) for r, n in zip(index.records, counts) if n != 1]
        if wrong:  # not a bad sample but the wrong task: no skipping
            raise DataError(f"{wrong[0]}: localization needs exactly one object per image "
                            f"({len(wrong)} images have none or several); use a detection model instead")
        labels = np.asarray([int(r.labels[0]) for r in index.records])
        predefined = dict(index.splits)  # an empty split the data names is an error (require_nonempty), not ignored
        if set(predefined) == {"train"} and len(predefined["train"]) == len(labels):
            predefined = {}  # one folder only: split it here
        self.splits = complete_splits(labels, predefined, self.val_fraction, self.test_fraction, self.seed)
        require_nonempty(self.splits, self.source, self.bad)
        self.index = index
        log.info(f"localization: {len(index.class_names)} classes, "
                 + ", ".join(f"{k}={len(v)}" for k, v in self.splits.items()))

    def _dataset(self, split: str) -> LocalizationDataset:
        self._index()
        return LocalizationDataset(self.index, self.splits[split], self.transform_for(split), self.eval_transform,
                                   self.bad)
