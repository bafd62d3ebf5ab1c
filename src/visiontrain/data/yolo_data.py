"""YOLO input pipeline around the detection datamodule: letterbox to a square ``img_size`` (exact box
correction, invertible), dataset-level 4-image mosaic for training (switched off for the last ``close_mosaic``
epochs), then the Albumentations pipeline of ``train_transforms`` per image (flip, colour, … moving the boxes).

Training targets are in letterboxed pixels. Validation/test targets keep the original image's boxes; each target
carries ``letterbox`` = (scale_x, scale_y, pad_x, pad_y) and ``orig_size`` = (H, W) so predictions go back to
original coordinates and mAP is computed there, exactly as for the torchvision detectors.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from visiontrain.data.detection import BoxFilter, DetectionDataModule, DetectionDataset
from visiontrain.errors import ConfigError, DataError

PAD_VALUE = 114  # YOLO's grey padding


def fit_long_side(image: np.ndarray, size: int) -> tuple[np.ndarray, float, float]:
    """Resize keeping the aspect ratio so that the long side is ``size``; returns the image and the exact per-axis
    scale of the rounded resize (boxes map with it)."""
    import cv2

    h, w = image.shape[:2]
    r = size / max(h, w)
    nw, nh = max(1, min(size, round(w * r))), max(1, min(size, round(h * r)))
    if (nw, nh) != (w, h):
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR if r > 1 else cv2.INTER_AREA)
    return image, nw / w, nh / h


def letterbox(image: np.ndarray, size: int, boxes: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Resize keeping the aspect ratio so the long side is ``size``, pad (centred) to size x size.
    Returns the image, the boxes mapped with the exact per-axis scale of the rounded resize, and
    (scale_x, scale_y, pad_x, pad_y) for the inverse."""
    image, sx, sy = fit_long_side(image, size)
    nh, nw = image.shape[:2]
    px, py = (size - nw) // 2, (size - nh) // 2
    out = np.full((size, size, 3), PAD_VALUE, np.uint8)
    out[py:py + nh, px:px + nw] = image
    params = np.array([sx, sy, px, py], np.float64)
    if boxes is not None:
        boxes = apply_letterbox(boxes, params)
    return out, boxes, params


def apply_letterbox(boxes: np.ndarray, params: np.ndarray) -> np.ndarray:
    sx, sy, px, py = params
    out = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    out[:, 0::2] = out[:, 0::2] * sx + px
    out[:, 1::2] = out[:, 1::2] * sy + py
    return out.astype(np.float32)


def mosaic(samples: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], size: int, scale: float = 0.5,
           translate: float = 0.1, rng: random.Random | None = None, min_area_ratio: float = 0.1
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four (image, boxes, labels) → one size x size image: each is letterboxed into a quadrant around a random
    centre of a 2*size canvas, then a random scale (1 ± scale) and translation crop it back to size x size.
    Boxes move with the same affine map (no rotation, so exactly), are clipped, and dropped when less than
    ``min_area_ratio`` of them is left or they are under 2 px."""
    import cv2

    rng = rng or random.Random()
    s = size
    canvas = np.full((2 * s, 2 * s, 3), PAD_VALUE, np.uint8)
    xc, yc = (int(rng.uniform(s * 0.5, s * 1.5)) for _ in range(2))
    all_boxes, all_labels = [], []
    for k, (image, boxes, labels) in enumerate(samples):
        image, sx, sy = fit_long_side(image, s)
        h, w = image.shape[:2]
        if k == 0:  # top left
            x1a, y1a, x2a, y2a = max(xc - w, 0), max(yc - h, 0), xc, yc
            x1b, y1b = w - (x2a - x1a), h - (y2a - y1a)
        elif k == 1:  # top right
            x1a, y1a, x2a, y2a = xc, max(yc - h, 0), min(xc + w, 2 * s), yc
            x1b, y1b = 0, h - (y2a - y1a)
        elif k == 2:  # bottom left
            x1a, y1a, x2a, y2a = max(xc - w, 0), yc, xc, min(2 * s, yc + h)
            x1b, y1b = w - (x2a - x1a), 0
        else:  # bottom right
            x1a, y1a, x2a, y2a = xc, yc, min(xc + w, 2 * s), min(2 * s, yc + h)
            x1b, y1b = 0, 0
        canvas[y1a:y2a, x1a:x2a] = image[y1b:y1b + (y2a - y1a), x1b:x1b + (x2a - x1a)]
        params = np.array([sx, sy, x1a - x1b, y1a - y1b], np.float64)
        all_boxes.append(apply_letterbox(boxes, params))
        all_labels.append(np.asarray(labels, np.int64).reshape(-1))
    boxes = np.concatenate(all_boxes) if all_boxes else np.zeros((0, 4), np.float32)
    labels = np.concatenate(all_labels) if all_labels else np.zeros(0, np.int64)
    # random scale about the canvas centre, random shift, output window size x size
    g = rng.uniform(1 - scale, 1 + scale)
    tx = rng.uniform(0.5 - translate, 0.5 + translate) * s
    ty = rng.uniform(0.5 - translate, 0.5 + translate) * s
    m = np.array([[g, 0, tx - g * s], [0, g, ty - g * s]], np.float64)  # canvas centre (s, s) → (tx, ty)
    out = cv2.warpAffine(canvas, m, (s, s), flags=cv2.INTER_LINEAR, borderValue=(PAD_VALUE,) * 3)
    moved = boxes.astype(np.float64) * g
    moved[:, 0::2] += m[0, 2]
    moved[:, 1::2] += m[1, 2]
    clipped = moved.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, s)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, s)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    keep = ((clipped[:, 2] - clipped[:, 0]) > 2) & ((clipped[:, 3] - clipped[:, 1]) > 2) & (
        area(clipped) > min_area_ratio * np.maximum(area(moved), 1e-9))
    return out, clipped[keep].astype(np.float32), labels[keep]


def collate(batch: Sequence[tuple[torch.Tensor, dict]]) -> tuple[torch.Tensor, list[dict]]:
    """All images share the letterboxed size: one tensor."""
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)


class YoloDataset(DetectionDataset):
    """Reuses DetectionDataset's sample loading rules (crowd/difficult handling, bad-sample skipping).

    Training keeps the last ``image_cache`` images it read, decoded and fitted to ``img_size`` (long side): a
    mosaic sample reads four images, so without it each training image is decoded about four times per epoch
    (YOLOv8 keeps a buffer of recent images for the same reason). Only speed depends on the cache: the samples are
    identical with or without it. Each DataLoader worker has its own."""

    def __init__(self, *args: Any, img_size: int, mosaic: float, close_mosaic: int, mosaic_scale: float,
                 mosaic_translate: float, image_cache: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.img_size, self.mosaic_p, self.close_mosaic = img_size, mosaic, close_mosaic
        self.mosaic_scale, self.mosaic_translate = mosaic_scale, mosaic_translate
        self.image_cache = image_cache if self.training else 0
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = OrderedDict()
        # shared memory, so DataLoader workers see the epoch the module sets
        self._state = torch.zeros(2, dtype=torch.long).share_memory_()  # epoch, max_epochs

    def set_epoch(self, epoch: int, max_epochs: int | None) -> None:
        self._state[0], self._state[1] = int(epoch), int(max_epochs or -1)

    @property
    def mosaic_active(self) -> bool:
        epoch, max_epochs = (int(v) for v in self._state)
        closing = max_epochs > 0 and epoch >= max_epochs - self.close_mosaic
        return self.training and self.mosaic_p > 0 and not closing

    def _raw(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        s = self.index.load(j)
        keep = np.ones(len(s["labels"]), bool)
        if self.training:
            keep &= s["iscrowd"] == 0
            if not self.keep_difficult:
                keep &= ~s["difficult"]
        return s["image"], s["boxes"][keep], s["labels"][keep], s

    def _fitted(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Training image ``j`` with its long side at ``img_size`` (the first step of both mosaic and letterbox,
        so they do not resize it again), its boxes mapped (float64, as the letterbox maps them), labels, image id."""
        hit = self._cache.get(j)
        if hit is not None:
            self._cache.move_to_end(j)
            return hit
        image, boxes, labels, s = self._raw(j)
        image, sx, sy = fit_long_side(image, self.img_size)
        entry = (image, np.asarray(boxes, np.float64).reshape(-1, 4) * [sx, sy, sx, sy], labels, int(s["image_id"]))
        if self.image_cache:
            self._cache[j] = entry
            if len(self._cache) > self.image_cache:
                self._cache.popitem(last=False)
        return entry

    def _sample(self, j: int) -> tuple[torch.Tensor, dict]:
        if not self.training:
            return self._eval_sample(j)
        if self.mosaic_active and random.random() < self.mosaic_p:
            others = [int(self.indices[random.randrange(len(self.indices))]) for _ in range(3)]
            parts = [self._fitted(k)[:3] for k in [j, *others]]
            image, boxes, labels = mosaic(parts, self.img_size, self.mosaic_scale, self.mosaic_translate,
                                          random.Random(random.getrandbits(32)))
            image_id = -1
        else:
            image, boxes, labels, image_id = self._fitted(j)
            image, boxes, _ = letterbox(image, self.img_size, boxes)
        out = self.transform(image=image, bboxes=boxes, index=np.arange(len(labels)))
        kept = np.asarray(out["index"], dtype=np.int64)
        self.dropped["boxes dropped by augmentation"] += len(labels) - len(kept)
        if out["image"].shape[-2:] != (self.img_size, self.img_size):
            raise ConfigError(f"data.train_transforms changed the image size to {tuple(out['image'].shape[-2:])}; "
                              f"YOLO letterboxes to data.img_size={self.img_size}: use size-preserving transforms")
        target = {"boxes": torch.from_numpy(np.asarray(out["bboxes"], np.float32).reshape(-1, 4)),
                  "labels": torch.from_numpy(labels[kept]), "image_id": image_id}
        return out["image"], target

    def _eval_sample(self, j: int) -> tuple[torch.Tensor, dict]:
        image, boxes, labels, s = self._raw(j)
        h, w = image.shape[:2]
        boxed, _, params = letterbox(image, self.img_size)
        out = self.transform(image=boxed, bboxes=np.zeros((0, 4), np.float32), index=np.zeros(0, np.int64))
        target = {"boxes": torch.from_numpy(np.asarray(boxes, np.float32).reshape(-1, 4)),
                  "labels": torch.from_numpy(labels),
                  "iscrowd": torch.from_numpy(s["iscrowd"].astype(np.int64)),
                  "difficult": torch.from_numpy(s["difficult"]),
                  "area": torch.from_numpy(s["area"] if s["area"] is not None else
                                           ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).astype(
                                               np.float32)),
                  "image_id": int(s["image_id"]),
                  "letterbox": torch.from_numpy(params), "orig_size": torch.tensor([h, w])}
        return out["image"], target


class YoloDataModule(DetectionDataModule):
    """DetectionDataModule with YOLO's input pipeline. ``batch_size`` is per device."""

    def __init__(
        self,
        source: Any,
        img_size: int = 320,
        mosaic: float = 1.0,
        close_mosaic: int = 10,
        mosaic_scale: float = 0.5,
        mosaic_translate: float = 0.1,
        image_cache: int | None = None,
        train_transforms: Sequence[Any] | None = None,
        eval_transforms: Sequence[Any] | None = None,
        box_filter: BoxFilter | dict | None = None,
        with_masks: bool = False,
        train_difficult: bool = False,
        group_by_aspect_ratio: bool = False,
        batch_size: int = 16,
        **shared: Any,  # VisionDataModule's (split fractions, loader options, on_bad_sample, seed, exact_resume)
    ) -> None:
        if with_masks or group_by_aspect_ratio:  # shared keys of the detection configs; not YOLO options
            raise ConfigError("data.with_masks / data.group_by_aspect_ratio: not supported by the YOLO pipeline "
                              "(letterboxed square batches, boxes only); set them to false")
        if img_size < 32 or img_size % 32:
            raise ConfigError(f"data.img_size: {img_size} must be a positive multiple of 32 (the largest stride)")
        if not 0 <= mosaic <= 1:
            raise ConfigError(f"data.mosaic: {mosaic} is a probability, in [0, 1]")
        if image_cache is not None and image_cache < 0:
            raise ConfigError(f"data.image_cache: {image_cache} must be >= 0 (0: no cache, null: batch_size x 8)")
        if close_mosaic < 0 or not 0 <= mosaic_scale < 1 or not 0 <= mosaic_translate <= 0.5:
            raise ConfigError("data.close_mosaic must be >= 0, data.mosaic_scale in [0, 1), "
                              "data.mosaic_translate in [0, 0.5]")
        super().__init__(source, train_transforms, eval_transforms, box_filter=box_filter, train_difficult=train_difficult,
                         batch_size=batch_size, **shared)
        self.img_size, self.mosaic, self.close_mosaic = img_size, mosaic, close_mosaic
        self.mosaic_scale, self.mosaic_translate = mosaic_scale, mosaic_translate
        self.image_cache = min(8 * batch_size, 1000) if image_cache is None else image_cache
        self.loader_kwargs["collate_fn"] = collate

    def _dataset(self, split: str) -> YoloDataset:
        self._index()
        if split not in self.datasets:
            train = split == "train"
            self.datasets[split] = YoloDataset(
                self.index, self.splits.get(split, np.array([], np.int64)),
                self.train_transform if train else self.eval_transform, False, train, self.train_difficult,
                self.on_bad_sample, self.bad, img_size=self.img_size, mosaic=self.mosaic,
                close_mosaic=self.close_mosaic, mosaic_scale=self.mosaic_scale,
                mosaic_translate=self.mosaic_translate, image_cache=self.image_cache)
        return self.datasets[split]


def image_to_tensor(image: np.ndarray, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """One HxW(xC) uint8 image (gray, RGB or RGBA) → letterboxed float (3, size, size) in [0, 1] and its
    letterbox parameters: what ``predict`` and export feed the network."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise DataError(f"predict: expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[..., :3]  # RGBA: drop alpha
    if image.dtype != np.uint8:
        image = (image.clip(0, 1) * 255).round().astype(np.uint8) if image.dtype.kind == "f" else image.astype(
            np.uint8)
    boxed, _, params = letterbox(np.ascontiguousarray(image), size)
    return torch.from_numpy(boxed).permute(2, 0, 1).float().div_(255), params


