"""The common shape of a semantic-segmentation source (mask folders, COCO), and the checks every sample passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from visiontrain.imaging import image_size as _image_size
from visiontrain.imaging import read_rgb

IGNORE_INDEX = 255


@dataclass
class SegmentationSamples:
    class_names: list[str]  # index 0 is usually "background"
    images: Sequence[Path]
    mask_loader: Callable[[int], np.ndarray]  # HxW integer class ids, IGNORE_INDEX where unlabelled
    mask_names: Sequence[str]  # the file (or annotation) each mask comes from, for error messages
    splits: dict[str, np.ndarray] = field(default_factory=dict)  # predefined split name → indices
    problems: list[str] = field(default_factory=list)  # unusable files found while indexing (one line each)
    notes: list[str] = field(default_factory=list)  # what the reader assumed or found suspicious (logged once)

    def __len__(self) -> int:
        return len(self.images)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return read_rgb(self.images[i]), self.mask_loader(i)

    def subset(self, keep: np.ndarray) -> "SegmentationSamples":
        """The samples at ``keep`` (sorted indices), splits renumbered to match."""
        new_index = {int(old): new for new, old in enumerate(keep)}
        splits = {name: np.array([new_index[int(i)] for i in idx if int(i) in new_index], dtype=np.int64)
                  for name, idx in self.splits.items()}
        loader = self.mask_loader
        return SegmentationSamples(self.class_names, [self.images[int(i)] for i in keep],
                                   lambda j: loader(int(keep[j])), [self.mask_names[int(i)] for i in keep], splits)


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, EXIF orientation applied as ``read_rgb`` does."""
    w, h = _image_size(path)
    return h, w


BINARY_255 = "masks contain only 0 and 255"


def check_sample(samples: SegmentationSamples, i: int, ignore_index: int = IGNORE_INDEX, seen=None) -> str | None:
    """One line describing what is wrong with sample ``i`` (size, class ids, unreadable mask), or None.
    ``seen`` (a Counter) counts masks that are valid but suspicious (``BINARY_255``)."""
    from visiontrain.errors import DataError

    try:
        mask = samples.mask_loader(i)
        h, w = image_size(Path(samples.images[i]))
    except DataError as exc:
        return str(exc)
    name = samples.mask_names[i]
    if mask.shape != (h, w):
        return (f"{name}: mask is {mask.shape[1]}x{mask.shape[0]} but its image {samples.images[i]} is {w}x{h} "
                "(width x height after EXIF orientation must match)")
    ids = np.unique(mask)
    bad = ids[(ids >= len(samples.class_names)) & (ids != ignore_index)]
    if bad.size:
        return (f"{name}: class ids {bad[:10].tolist()} outside 0..{len(samples.class_names) - 1} "
                f"({len(samples.class_names)} classes; {ignore_index} = ignore)")
    if seen is not None and ignore_index == 255 and ids.tolist() == [0, 255]:  # a binary mask saved as 0/255?
        seen[BINARY_255] += 1
    return None
