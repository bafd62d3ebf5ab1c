"""Drawing shapes: the building block of the generated "shapes" datasets of every task family."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPE_KINDS = ("circle", "square", "triangle", "star", "hexagon", "cross")


@dataclass(frozen=True)
class PlacedShape:
    kind: str
    cx: float
    cy: float
    radius: float  # circumscribed radius in pixels
    angle: float  # radians
    color: tuple[int, int, int]

    def polygon(self) -> list[tuple[float, float]]:
        """Outline as a polygon (circles approximated with 48 points): drawing, masks and boxes share it."""
        r, a = self.radius, self.angle
        if self.kind == "circle":
            pts = [(math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
        elif self.kind == "square":
            pts = [(math.cos(t), math.sin(t)) for t in (math.pi / 4 + k * math.pi / 2 for k in range(4))]
        elif self.kind == "triangle":
            pts = [(math.cos(t), math.sin(t)) for t in (-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
        elif self.kind == "hexagon":
            pts = [(math.cos(k * math.pi / 3), math.sin(k * math.pi / 3)) for k in range(6)]
        elif self.kind == "star":
            pts = [((1.0 if k % 2 == 0 else 0.45) * math.cos(-math.pi / 2 + k * math.pi / 5),
                    (1.0 if k % 2 == 0 else 0.45) * math.sin(-math.pi / 2 + k * math.pi / 5)) for k in range(10)]
        elif self.kind == "cross":
            t = 0.33
            pts = [(-t, -1), (t, -1), (t, -t), (1, -t), (1, t), (t, t), (t, 1), (-t, 1), (-t, t), (-1, t), (-1, -t),
                   (-t, -t)]
        else:
            raise ValueError(f"unknown shape kind '{self.kind}'; known: {', '.join(SHAPE_KINDS)}")
        cos, sin = math.cos(a), math.sin(a)
        return [(self.cx + r * (x * cos - y * sin), self.cy + r * (x * sin + y * cos)) for x, y in pts]

    def box_xyxy(self, width: int, height: int) -> tuple[float, float, float, float]:
        xs, ys = zip(*self.polygon())
        return (max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys)))


def contrasting_color(rng: np.random.Generator, background: np.ndarray) -> tuple[int, int, int]:
    """A saturated colour far from the background's mean, so that shapes stay visible on any crop."""
    mean = background.reshape(-1, 3).mean(axis=0)
    best, best_dist = (255, 0, 0), -1.0
    for _ in range(8):
        c = rng.integers(0, 256, size=3)
        c[rng.integers(3)] = rng.choice([0, 255])
        dist = float(np.abs(c - mean).sum())
        if dist > best_dist:
            best, best_dist = tuple(int(v) for v in c), dist
    return best


def random_shape(rng: np.random.Generator, kind: str, size: int, min_frac: float, max_frac: float,
                 background: np.ndarray) -> PlacedShape:
    radius = float(rng.uniform(min_frac, max_frac)) * size / 2
    margin = radius * 0.7
    cx, cy = (float(rng.uniform(margin, size - margin)) for _ in range(2))
    return PlacedShape(kind, cx, cy, radius, float(rng.uniform(0, 2 * math.pi)), contrasting_color(rng, background))


def draw(image: Image.Image, shape: PlacedShape) -> None:
    ImageDraw.Draw(image).polygon(shape.polygon(), fill=shape.color)
