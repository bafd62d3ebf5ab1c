"""Small hand-made mask folders for reader and bad-input tests."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_pair(root: Path, name: str, mask: np.ndarray, image_size: tuple[int, int] | None = None,
               mode: str = "P") -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    ih, iw = image_size or mask.shape[:2]
    h, w = mask.shape[:2]
    Image.fromarray(np.full((ih, iw, 3), 128, np.uint8)).save(root / "images" / f"{name}.jpg")
    if mode == "P":
        pal = Image.new("P", (w, h))  # palette colours unrelated to the indices: the reader must use the indices
        pal.putpalette([v for i in range(256) for v in ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)])
        pal.putdata(list(mask.astype(np.uint8).ravel()))
        pal.save(root / "masks" / f"{name}.png")
    else:
        Image.fromarray(mask.astype(np.uint8)).convert(mode).save(root / "masks" / f"{name}.png")


def simple_mask(h: int = 16, w: int = 16, label: int = 1) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[4:12, 4:12] = label
    return m
