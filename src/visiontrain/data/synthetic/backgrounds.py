"""Backgrounds for generated datasets: crops of scikit-image's bundled photographs and textures, or noise."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "stereo_motorcycle", "hubble_deep_field")
TEXTURES = ("brick", "grass", "gravel", "camera", "coins")


@lru_cache(maxsize=None)
def _bundled(name: str) -> np.ndarray:
    import skimage.data

    img = getattr(skimage.data, name)()
    if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
        img = img[0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def random_background(rng: np.random.Generator, size: int, kinds: tuple[str, ...] = ("photo", "texture", "noise"),
                      contrast: float = 1.0):
    """A size x size x 3 uint8 background: a random crop (random scale) of a bundled image, or smooth noise.
    ``contrast`` < 1 blends it towards its mean colour: clutter that a small model can still see past."""
    image = _background(rng, size, kinds)
    if contrast >= 1.0:
        return image
    mean = image.reshape(-1, 3).mean(axis=0)
    return (mean + contrast * (image - mean)).clip(0, 255).astype(np.uint8)


def _background(rng: np.random.Generator, size: int, kinds: tuple[str, ...]) -> np.ndarray:
    kind = kinds[rng.integers(len(kinds))]
    if kind == "noise":
        base = rng.integers(0, 256, size=3)
        noise = rng.normal(0, 25, size=(size // 4 + 1, size // 4 + 1, 3))
        noise = np.kron(noise, np.ones((4, 4, 1)))[:size, :size]
        return np.clip(base + noise, 0, 255).astype(np.uint8)
    source = _bundled(PHOTOS[rng.integers(len(PHOTOS))] if kind == "photo" else TEXTURES[rng.integers(len(TEXTURES))])
    h, w = source.shape[:2]
    short = min(h, w)  # a bundled image smaller than ``size`` (coins: 303 px) is cropped whole and enlarged
    crop = int(rng.integers(min(max(size, short // 8), short), short + 1))
    y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
    from PIL import Image

    patch = Image.fromarray(source[y : y + crop, x : x + crop]).resize((size, size), Image.BILINEAR)
    return np.asarray(patch)
