"""A generated painting-like style image: brush strokes following a swirling flow field (offline, seeded)."""

from __future__ import annotations

import colorsys
import math

import numpy as np


def painting(size: int = 512, seed: int = 0, strokes: int = 2500) -> np.ndarray:
    """HxWx3 uint8. A small harmonious palette and oriented strokes give the texture statistics (edges, colour
    blobs at several scales) that a style loss picks up, unlike flat noise."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    base_hue = rng.uniform()
    palette = []
    for k in range(6):  # analogous hues plus one complementary accent
        hue = (base_hue + (0.5 if k == 5 else rng.uniform(-0.08, 0.08))) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.4, 0.9), rng.uniform(0.35, 0.95))
        palette.append(np.array([r, g, b]) * 255)
    image = Image.new("RGB", (size, size), tuple(int(c) for c in palette[0]))
    draw = ImageDraw.Draw(image)
    phase = rng.uniform(0, 2 * math.pi, 2)
    for i in range(strokes):
        x, y = rng.uniform(0, size, 2)
        angle = math.pi * (math.sin(3 * x / size * math.pi + phase[0]) + math.cos(2 * y / size * math.pi + phase[1]))
        scale = 1.0 - 0.7 * i / strokes  # broad strokes first, details last
        length = rng.uniform(0.02, 0.08) * size * scale
        width = max(1, int(rng.uniform(0.004, 0.02) * size * scale))
        color = np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 18, 3), 0, 255)
        dx, dy = length * math.cos(angle), length * math.sin(angle)
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=tuple(int(c) for c in color), width=width)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius=size / 512)))
