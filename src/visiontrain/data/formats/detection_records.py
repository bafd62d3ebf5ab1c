"""The common shape of a detection / instance-segmentation source, whatever its on-disk format.

A reader returns a ``DetectionIndex``: class names, one ``Record`` per image (boxes already absolute xyxy float32,
labels 0..K-1) and optional predefined splits. Pixels and masks are decoded only when a sample is loaded.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from visiontrain.data.formats.images import read_rgb

log = logging.getLogger(__name__)


@dataclass
class Record:
    path: Path
    image_id: int
    width: int
    height: int
    boxes: np.ndarray  # (N, 4) float32 absolute xyxy
    labels: np.ndarray  # (N,) int64 in 0..K-1
    iscrowd: np.ndarray | None = None  # (N,) uint8
    difficult: np.ndarray | None = None  # (N,) bool (VOC)
    area: np.ndarray | None = None  # (N,) float32, the dataset's own object area (COCO) for COCO area ranges
    masks: Callable[[], np.ndarray] | None = None  # decodes (N, H, W) uint8 on demand

    def __post_init__(self) -> None:
        n = len(self.labels)
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        self.iscrowd = np.zeros(n, np.uint8) if self.iscrowd is None else np.asarray(self.iscrowd, np.uint8)
        self.difficult = np.zeros(n, bool) if self.difficult is None else np.asarray(self.difficult, bool)


@dataclass
class DetectionIndex:
    class_names: list[str]
    records: list[Record]
    splits: dict[str, np.ndarray] = field(default_factory=dict)  # predefined split name → record indices
    category_ids: list[int] | None = None  # COCO: the dataset's category id of each contiguous label
    skipped: Counter = field(default_factory=Counter)  # reason → count, reported once at the start of training

    def __len__(self) -> int:
        return len(self.records)

    def load(self, i: int, with_masks: bool = False) -> dict[str, Any]:
        """One sample: image HxWx3 uint8, boxes (N,4) float32 xyxy, labels, iscrowd, difficult, image_id, masks."""
        rec = self.records[i]
        image = read_rgb(rec.path)
        sample = {"image": image, "boxes": rec.boxes, "labels": rec.labels, "iscrowd": rec.iscrowd,
                  "difficult": rec.difficult, "image_id": rec.image_id, "area": rec.area}
        if with_masks:
            if rec.masks is None:
                from visiontrain.errors import DataError

                raise DataError(f"{rec.path}: the dataset has no instance masks for this image")
            sample["masks"] = rec.masks()
        return sample

    def summary(self) -> str:
        if not self.skipped:
            return ""
        return ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))


def sanitize_boxes(boxes: np.ndarray, width: int, height: int, where: str,
                   skipped: Counter) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to the image; return (clipped boxes, mask of boxes to keep): NaN boxes and boxes with no area
    after clipping are dropped. Both are counted in ``skipped``; ``where`` names the file in the debug log."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    finite = np.isfinite(boxes).all(axis=1)
    clipped = boxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    outside = finite & (np.abs(clipped - boxes) > 1e-3).any(axis=1)
    keep = finite & (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    if outside.any():
        skipped["boxes clipped to the image"] += int((outside & keep).sum())
    if (~keep).any():
        skipped["degenerate or NaN boxes dropped"] += int((~keep).sum())
        log.debug(f"{where}: dropped {int((~keep).sum())} degenerate or NaN boxes")
    return np.where(np.isfinite(clipped), clipped, 0).astype(np.float32), keep


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels; errors name the file."""
    from PIL import Image, UnidentifiedImageError

    from visiontrain.errors import DataError

    try:
        with Image.open(path) as img:
            orientation = img.getexif().get(0x0112, 1)
            w, h = img.size
            return (h, w) if orientation in (5, 6, 7, 8) else (w, h)  # EXIF-rotated, as read_rgb returns it
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: unreadable image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")


def missing_image(path: Path, on_bad_sample: str, skipped: Counter) -> bool:
    """True when the image should be left out (skip mode); raises in error mode."""
    if path.is_file():
        return False
    if on_bad_sample == "skip":
        skipped["missing images skipped"] += 1
        return True
    from visiontrain.errors import DataError

    raise DataError(f"{path}: image listed in the annotations but not found (or set data.on_bad_sample=skip)")
