"""Free-form holes for inpainting (random brush strokes, as in DeepFill v2), as an Albumentations transform.

Albumentations has rectangular holes (``CoarseDropout`` with ``fill_mask: 1``) but no strokes. Like CoarseDropout,
this marks holes in the mask (value ``fill_mask``) and fills them in the image, so the two compose in one pipeline;
randomness comes from the pipeline's generator, so a seeded pipeline draws the same holes.
"""

from __future__ import annotations

import math
from typing import Any

import albumentations as A
import numpy as np


class FreeFormHoles(A.DualTransform):
    def __init__(self, num_strokes: tuple[int, int] = (1, 3), vertices: tuple[int, int] = (2, 5),
                 width: tuple[float, float] = (0.04, 0.1), length: tuple[float, float] = (0.1, 0.3),
                 fill: float = 0, fill_mask: float = 1, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.num_strokes, self.vertices, self.width, self.length = num_strokes, vertices, width, length
        self.fill, self.fill_mask = fill, fill_mask

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        from PIL import Image, ImageDraw

        h, w = params["shape"][:2]
        rng, side = self.random_generator, min(h, w)
        canvas = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(self.num_strokes[0], self.num_strokes[1] + 1))):
            x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
            width = max(1, int(rng.uniform(*self.width) * side))
            for _ in range(int(rng.integers(self.vertices[0], self.vertices[1] + 1))):
                angle, step = float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(*self.length)) * side
                nx, ny = x + step * math.cos(angle), y + step * math.sin(angle)
                draw.line([(x, y), (nx, ny)], fill=255, width=width)
                r = width / 2  # round joints
                draw.ellipse([nx - r, ny - r, nx + r, ny + r], fill=255)
                x, y = nx, ny
        return {"holes": np.asarray(canvas) > 0}

    def apply(self, img: np.ndarray, holes: np.ndarray, **params: Any) -> np.ndarray:
        out = img.copy()
        out[holes] = self.fill
        return out

    def apply_to_mask(self, mask: np.ndarray, holes: np.ndarray, **params: Any) -> np.ndarray:
        out = mask.copy()
        out[holes] = self.fill_mask
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("num_strokes", "vertices", "width", "length", "fill", "fill_mask")
