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

from visiontrain.imaging import image_size as _image_size
from visiontrain.imaging import read_rgb

log = logging.getLogger(__name__)
# counted in DetectionIndex.skipped next to the images left out, but these keep the image: they repair one box
REPAIRS = ("boxes clipped to the image", "zero-area boxes dropped", "duplicate image entries dropped",
           "duplicate annotations dropped")


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
    problems: list[str] = field(default_factory=list)  # one line per image left out (data.on_bad_sample=skip)
    notes: list[str] = field(default_factory=list)  # what the reader assumed or found suspicious (logged once)

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

    @property
    def skipped_images(self) -> dict[str, int]:
        """Reason → images left out (``skipped`` also counts boxes repaired in place)."""
        return {k: v for k, v in self.skipped.items() if k not in REPAIRS}

    def summary(self) -> str:
        if not self.skipped:
            return ""
        return ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))


def sanitize_boxes(boxes: np.ndarray, width: int, height: int, where: str, skipped: Counter,
                   names: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check boxes against the image; return (clipped boxes, mask of boxes to keep).

    A NaN/infinite coordinate, an inverted box (x2 < x1 or y2 < y1) or a box wholly outside the image is a broken
    annotation: DataError naming ``where`` (the reader skips the image or stops, per ``data.on_bad_sample``).
    A box running partly off the image is clipped, and a zero-area box dropped (as torchvision's references do);
    both are counted in ``skipped``. ``names``: how the messages call each box (default "object <k>")."""
    from visiontrain.errors import DataError

    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    for k, box in enumerate(boxes):
        obj = names[k] if names else f"object {k}"
        coords = ", ".join(f"{v:g}" for v in box)
        if not np.isfinite(box).all():
            raise DataError(f"{where}: {obj} has a NaN or infinite box coordinate ({coords})")
        if box[2] < box[0] or box[3] < box[1]:
            raise DataError(f"{where}: {obj} has a negative width or height (x1, y1, x2, y2 = {coords})")
        wholly_outside = box[0] >= width or box[1] >= height or box[2] <= 0 or box[3] <= 0
        if wholly_outside and box[2] > box[0] and box[3] > box[1]:  # (a zero-area box is dropped below)
            raise DataError(f"{where}: {obj} lies outside the {width}x{height} image (x1, y1, x2, y2 = {coords})")
    clipped = boxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    outside = keep & (np.abs(clipped - boxes) > 1e-3).any(axis=1)
    if outside.any():
        skipped["boxes clipped to the image"] += int(outside.sum())
        log.debug(f"{where}: clipped {int(outside.sum())} boxes to the image")
    if (~keep).any():
        skipped["zero-area boxes dropped"] += int((~keep).sum())
        log.debug(f"{where}: dropped {int((~keep).sum())} zero-area boxes")
    return clipped, keep


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, EXIF orientation applied as ``read_rgb`` does; errors name the file."""
    return _image_size(path)


def check_size(path: Path, width: int, height: int, listed_in: str) -> None:
    """The annotation's image size must be the image's own (after EXIF orientation), or every box is off."""
    from visiontrain.errors import DataError

    w, h = image_size(path)
    if (w, h) != (width, height):
        hint = " (EXIF-rotated: annotate the image as displayed)" if (h, w) == (width, height) else ""
        raise DataError(f"{path}: image is {w}x{h} after EXIF orientation but {listed_in} says {width}x{height}{hint}")


def missing_image(path: Path, bad) -> bool:
    """True when the image should be left out (skip); raises in error mode. ``bad``: a BadSamples."""
    if path.is_file():
        return False
    bad.add(f"{path}: image listed in the annotations but not found", "missing images skipped")
    return True
