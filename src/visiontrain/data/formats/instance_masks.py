"""Instance-id mask PNGs, as in PennFudanPed: ``<images>/<stem>.png`` and ``<masks>/<stem><suffix>.png`` where
0 is background and every other value is one object. One class (``class_name``); boxes are the masks' extents.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.formats.detection_records import DetectionIndex, Record, image_size
from visiontrain.errors import DataError
from visiontrain.imaging import is_image_file


class InstanceMaskReader:
    def __init__(self, root: str, images: str = "PNGImages", masks: str = "PedMasks", mask_suffix: str = "_mask",
                 class_name: str = "object") -> None:
        self.root = Path(root).expanduser()
        self.images, self.masks = self.root / images, self.root / masks
        self.mask_suffix, self.class_name = mask_suffix, class_name

    def prepare(self) -> None:
        """Nothing to fetch: the user's files are read as they are."""

    def load_index(self, on_bad_sample: str = "error") -> DetectionIndex:
        if not self.images.is_dir():
            raise DataError(f"{self.images}: image folder not found (set data.source.root / data.source.images)")
        paths = sorted(p for p in self.images.rglob("*") if p.is_file() and is_image_file(p))
        if not paths:
            raise DataError(f"{self.images}: no image files found")
        records, bad = [], BadSamples(on_bad_sample)
        for path in paths:
            mask_file = self.masks / path.relative_to(self.images).with_name(f"{path.stem}{self.mask_suffix}.png")
            rec = bad.guard("images with a missing or bad image or mask skipped", self._record, path, mask_file,
                            len(records))
            if rec is not None:
                records.append(rec)
        return DetectionIndex([self.class_name], records, {}, None, Counter(bad.counts), bad.lines)

    def _record(self, path: Path, mask_file: Path, index: int) -> Record:
        ids = read_instance_ids(mask_file)
        w, h = image_size(path)
        if ids.shape != (h, w):
            raise DataError(f"{mask_file}: mask is {ids.shape[1]}x{ids.shape[0]}, its image {w}x{h} (after EXIF "
                            "orientation; width x height must match)")
        instances = [v for v in np.unique(ids) if v != 0]
        boxes = []
        for v in instances:
            ys, xs = np.nonzero(ids == v)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])  # pixel extents, exclusive end

        def masks() -> np.ndarray:
            current = read_instance_ids(mask_file)
            return np.stack([(current == v) for v in instances]).astype(np.uint8) if instances else \
                np.zeros((0, h, w), np.uint8)

        return Record(path, index, w, h, np.asarray(boxes, np.float32), np.zeros(len(instances), np.int64),
                      masks=masks)


def read_instance_ids(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode in ("RGB", "RGBA"):
                raise DataError(f"{path}: RGB mask where an instance-id mask (one channel, 0 = background) "
                                "was expected")
            return np.asarray(img)
    except FileNotFoundError:
        raise DataError(f"{path}: instance mask not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        reason = "empty file" if path.stat().st_size == 0 else str(exc).splitlines()[0] or type(exc).__name__
        raise DataError(f"{path}: unreadable mask ({reason})") from None
