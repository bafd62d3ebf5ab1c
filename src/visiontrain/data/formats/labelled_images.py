"""The common shape of an image-classification source: class names, integer labels, a way to load item i."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from visiontrain.imaging import read_rgb


@dataclass
class LabelledImages:
    class_names: list[str]
    labels: np.ndarray
    items: Sequence  # file paths, or arrays already in memory
    splits: dict[str, np.ndarray] = field(default_factory=dict)  # predefined split name → indices
    loader: Callable[[int], np.ndarray] | None = None  # overrides items for sources with their own decoding
    notes: list[str] = field(default_factory=list)  # what the reader assumed or found suspicious (logged once)

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, i: int) -> np.ndarray:
        if self.loader is not None:
            return self.loader(i)
        item = self.items[i]
        return item if isinstance(item, np.ndarray) else read_rgb(item)

    def subset(self, keep: np.ndarray) -> "LabelledImages":
        """The items at ``keep`` (sorted indices), splits renumbered to match."""
        new_index = {int(old): new for new, old in enumerate(keep)}
        splits = {name: np.array([new_index[int(i)] for i in idx if int(i) in new_index], dtype=np.int64)
                  for name, idx in self.splits.items()}
        loader = self.loader
        return LabelledImages(self.class_names, self.labels[keep], [self.items[int(i)] for i in keep], splits,
                              None if loader is None else lambda j: loader(int(keep[j])))

    def describe(self, i: int) -> str:
        item = self.items[i] if self.items is not None and len(self.items) > i else None
        return str(item) if isinstance(item, (str, Path)) else f"sample #{i}"
