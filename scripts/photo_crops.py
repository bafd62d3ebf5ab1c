"""A few-label task of real photographs, offline: random crops of scikit-image's bundled photographs and textures,
one class per source image, written as an ImageFolder tree (``root/<class>/*.png``).

    .venv/bin/python scripts/photo_crops.py data/photo_crops --per-class 60

Which photograph a crop comes from is decided by its content (fur, coffee, brick, grass, …), not by a shape."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SOURCES = ["chelsea", "coffee", "astronaut", "rocket", "brick", "grass", "gravel", "camera"]


def write_crops(root: Path, per_class: int = 60, size: int = 96, seed: int = 0) -> Path:
    import skimage.data

    rng = np.random.default_rng(seed)
    for name in SOURCES:
        image = np.asarray(getattr(skimage.data, name)())
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = np.ascontiguousarray(image[..., :3])
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        h, w = image.shape[:2]
        for i in range(per_class):
            side = int(rng.uniform(0.25, 0.5) * min(h, w))  # a quarter to half of the photo: parts, not the whole
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            crop = Image.fromarray(image[y:y + side, x:x + side]).resize((size, size), Image.BICUBIC)
            crop.save(out / f"{i:03d}.png")
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--size", type=int, default=96)
    args = parser.parse_args()
    print(write_crops(args.root, args.per_class, args.size))
