"""Detection / instance-segmentation datamodule: any reader (COCO, YOLO, VOC, instance masks, generated
shapes-det), seeded splits, Albumentations pipelines that move boxes (and masks) with the image.

Targets follow torchvision's detection contract: per image a dict of ``boxes`` (N,4 float xyxy), ``labels``
(0..K-1 here; models shift them for their background class), ``iscrowd``, ``area``, ``difficult``, ``image_id``
and, with ``with_masks``, ``masks`` (N,H,W uint8).
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, Sampler

from visiontrain.data.bad_samples import BadSamples, load_or_skip, require_nonempty
from visiontrain.data.base import VisionDataModule
from visiontrain.data.formats.detection_records import REPAIRS, DetectionIndex
from visiontrain.data.splits import complete_splits
from visiontrain.errors import DataError

log = logging.getLogger(__name__)


@dataclass
class BoxFilter:
    """What survives augmentation: boxes are clipped to the image, then smaller ones are dropped (and counted)."""

    min_area: float = 4.0  # pixels
    min_visibility: float = 0.0  # fraction of the box's area before augmentation
    min_width: float = 1.0
    min_height: float = 1.0


def collate(batch: Sequence[tuple[torch.Tensor, dict]]) -> tuple[list[torch.Tensor], list[dict]]:
    """Images keep their own sizes: torchvision detectors resize and batch them themselves."""
    images, targets = zip(*batch)
    return list(images), list(targets)


class DetectionDataset(Dataset):
    def __init__(self, index: DetectionIndex, indices: np.ndarray, transform, with_masks: bool, training: bool,
                 keep_difficult: bool, on_bad_sample: str, bad: BadSamples | None = None) -> None:
        self.index, self.indices, self.transform = index, indices, transform
        self.with_masks, self.training, self.keep_difficult = with_masks, training, keep_difficult
        self.on_bad_sample = on_bad_sample
        self.bad = bad or BadSamples(on_bad_sample)
        self.dropped = Counter()  # boxes lost to augmentation (exact with num_workers=0)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict]:
        return load_or_skip(len(self.indices), i, lambda k: self._sample(int(self.indices[k])), self.bad)

    def _sample(self, j: int) -> tuple[torch.Tensor, dict]:
        s = self.index.load(j, with_masks=self.with_masks)
        keep = np.ones(len(s["labels"]), bool)
        if self.training:  # like torchvision's references: crowd regions and VOC 'difficult' objects are not targets
            keep &= s["iscrowd"] == 0
            if not self.keep_difficult:
                keep &= ~s["difficult"]
        boxes = s["boxes"][keep]
        kwargs: dict[str, Any] = {"image": s["image"], "bboxes": boxes, "index": np.flatnonzero(keep)}
        if self.with_masks and keep.any():
            kwargs["masks"] = s["masks"][keep]
        out = self.transform(**kwargs)
        kept = np.asarray(out["index"], dtype=np.int64)  # albumentations may return label fields as floats
        new_boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
        self.dropped["boxes dropped by augmentation"] += int(keep.sum()) - len(kept)
        image = out["image"]
        target = {
            "boxes": torch.from_numpy(new_boxes),
            "labels": torch.from_numpy(s["labels"][kept]),
            "iscrowd": torch.from_numpy(s["iscrowd"][kept].astype(np.int64)),
            "difficult": torch.from_numpy(s["difficult"][kept]),
            "area": torch.from_numpy(_scaled_area(s["area"], s["boxes"], new_boxes, kept)),
            "image_id": int(s["image_id"]),
        }
        if self.with_masks:
            target["masks"] = _select_masks(out.get("masks"), kwargs.get("index"), kept, image.shape[-2:])
        return image, target


def _scaled_area(area: np.ndarray | None, before: np.ndarray, after: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The dataset's object area (COCO: mask area), scaled like the box when a transform resized it."""
    box_area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    if area is None:
        return box_area(after).astype(np.float32)
    ratio = box_area(after) / np.maximum(box_area(before[kept]), 1e-6)
    return (area[kept] * ratio).astype(np.float32)


def _select_masks(masks, passed: np.ndarray | None, kept: np.ndarray, size) -> torch.Tensor:
    if masks is None or len(kept) == 0:
        return torch.zeros((0, *size), dtype=torch.uint8)
    masks = torch.as_tensor(np.stack([np.asarray(m) for m in masks]) if isinstance(masks, list) else masks)
    rows = [int(np.flatnonzero(passed == k)[0]) for k in kept]  # kept holds original indices
    return masks[rows].to(torch.uint8)


class GroupedBatchSampler(BatchSampler):
    """Batches of images with similar aspect ratios (the idea of torchvision's detection references): less padding.

    A ``BatchSampler`` over ``sampler``, so that under DDP Lightning rebuilds it around its DistributedSampler and each
    rank groups its own shard. Every rank must run the same number of steps, so an epoch is exactly
    ``len(sampler) // batch_size`` batches (at least one): aspect-pure while the groups allow, then mixed batches from
    what is left in the groups; the remainder of fewer than ``batch_size`` images waits for the next epoch's shuffle.
    """

    def __init__(self, sampler: Sampler[int], aspect_ratios: Sequence[float], batch_size: int,
                 drop_last: bool = True) -> None:
        super().__init__(sampler, batch_size, drop_last)
        ratios = np.asarray(aspect_ratios, dtype=np.float64)
        self.groups = np.digitize(np.log2(ratios), [-0.5, 0.0, 0.5])  # tall, portrait, landscape, wide

    def __iter__(self) -> Iterator[list[int]]:
        wanted, made = len(self), 0
        buckets: dict[int, list[int]] = {}
        for i in self.sampler:
            bucket = buckets.setdefault(int(self.groups[int(i)]), [])
            bucket.append(int(i))
            if len(bucket) == self.batch_size:
                yield bucket
                buckets[int(self.groups[int(i)])] = []
                made += 1
                if made == wanted:
                    return
        rest = [i for bucket in buckets.values() for i in bucket]
        for start in range(0, (wanted - made) * self.batch_size, self.batch_size):
            yield rest[start:start + self.batch_size]

    def __len__(self) -> int:
        n = len(self.sampler)
        return max(1, n // self.batch_size) if n else 0


class DetectionDataModule(VisionDataModule):
    """Boxes (and masks) move with the image through the pipelines; ``box_filter`` drops what becomes too small."""

    def __init__(self, source: Any, train_transforms: Sequence[Any] | None = None,
                 eval_transforms: Sequence[Any] | None = None, box_filter: BoxFilter | dict | None = None,
                 with_masks: bool = False, train_difficult: bool = False, group_by_aspect_ratio: bool = False,
                 batch_size: int = 4, **shared: Any) -> None:
        import albumentations as A

        bf = box_filter if isinstance(box_filter, BoxFilter) else BoxFilter(**(box_filter or {}))
        # Readers hand over absolute xyxy boxes; "index" tracks which objects (and masks) survive each transform.
        bbox_params = A.BboxParams(format="pascal_voc", label_fields=["index"], min_area=bf.min_area,
                                   min_visibility=bf.min_visibility, min_width=bf.min_width,
                                   min_height=bf.min_height, clip=True, filter_invalid_bboxes=True)
        with warnings.catch_warnings():  # an empty eval pipeline has nothing that moves boxes: that is fine
            warnings.filterwarnings("ignore", message="Got processor for bboxes")
            super().__init__(source, train_transforms, eval_transforms, batch_size=batch_size,
                             pipeline_options={"bbox_params": bbox_params}, **shared)
        self.with_masks, self.train_difficult = with_masks, train_difficult
        self.group_by_aspect_ratio = group_by_aspect_ratio
        self.loader_kwargs["collate_fn"] = collate
        self.index: DetectionIndex | None = None
        self.datasets: dict[str, DetectionDataset] = {}

    @property
    def class_names(self) -> list[str]:
        self._index()
        return list(self.index.class_names)

    @property
    def category_ids(self) -> list[int] | None:
        """COCO sources: the dataset's category id of each label (for results files)."""
        self._index()
        return self.index.category_ids

    def _index(self) -> None:
        if self.index is not None:
            return
        self.index = self.source.load_index(self.on_bad_sample)
        if not self.index.class_names:
            raise DataError(f"{type(self.source).__name__}: the dataset defines no classes")
        self.bad.lines += self.index.problems
        self.bad.counts.update(self.index.skipped_images)
        self.splits = complete_splits(None, self.index.splits, self.val_fraction, self.test_fraction, self.seed,
                                      size=len(self.index))
        if len(self.splits["train"]) == 0:
            raise DataError(f"{type(self.source).__name__}: no training images")
        require_nonempty(self.splits, self.source, self.bad)
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        objects = sum(len(r.labels) for r in self.index.records)
        log.info(f"{type(self.source).__name__}: {len(self.index.class_names)} classes, {objects} objects, {sizes}")
        repaired = {k: v for k, v in self.index.skipped.items() if k in REPAIRS}
        if repaired:
            log.warning("Annotations repaired while reading: "
                        + ", ".join(f"{n} {reason}" for reason, n in sorted(repaired.items())))

    def _dataset(self, split: str) -> DetectionDataset:
        self._index()
        if split not in self.datasets:
            train = split == "train"
            self.datasets[split] = DetectionDataset(
                self.index, self.splits.get(split, np.array([], np.int64)),
                self.train_transform if train else self.eval_transform, self.with_masks, train,
                self.train_difficult, self.on_bad_sample, self.bad)
        return self.datasets[split]

    def train_loader(self) -> DataLoader:
        if not self.group_by_aspect_ratio:
            return super().train_loader()
        ds = self._dataset("train")
        records = [self.index.records[int(j)] for j in ds.indices]
        ratios = np.asarray([r.width / max(r.height, 1) for r in records])
        batches = GroupedBatchSampler(RandomSampler(ds), ratios, self.batch_size)
        return DataLoader(ds, batch_sampler=batches, **self.loader_kwargs)

