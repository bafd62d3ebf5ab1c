"""Generated single-object "shapes-loc" set: one shape per image, written in YOLO txt layout
(``images/``, ``labels/``, ``data.yaml``) and read back through the same YOLO reader as users' data."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from visiontrain.data.formats.yolo import YoloReader
from visiontrain.data.synthetic.backgrounds import random_background
from visiontrain.data.synthetic.shapes import SHAPE_KINDS, draw, random_shape
from visiontrain.data.synthetic.shapes_classification import write_once


class ShapesLocalization:
    def __init__(self, root: str, classes: Sequence[str] = SHAPE_KINDS[:4], count: int = 1200, image_size: int = 64,
                 min_size: float = 0.2, max_size: float = 0.6, background_contrast: float = 0.5,
                 seed: int = 0) -> None:
        self.root = Path(root).expanduser()
        self.params = {"kind": "shapes-localization", "classes": list(classes), "count": int(count),
                       "image_size": int(image_size), "min_size": float(min_size), "max_size": float(max_size),
                       "background_contrast": float(background_contrast), "seed": int(seed), "version": 1}

    def prepare(self) -> None:
        write_once(self.root, self.params, self._write)

    def _write(self, out: Path) -> None:
        import yaml

        p = self.params
        rng = np.random.default_rng(p["seed"])
        size, classes = p["image_size"], p["classes"]
        (out / "images").mkdir(parents=True)
        (out / "labels").mkdir()
        for i in range(p["count"]):
            label = i % len(classes)  # balanced classes
            background = random_background(rng, size, contrast=p["background_contrast"])
            image = Image.fromarray(background)
            shape = random_shape(rng, classes[label], size, p["min_size"], p["max_size"], background)
            draw(image, shape)
            image.save(out / "images" / f"{i:05d}.png")
            x0, y0, x1, y1 = shape.box_xyxy(size, size)
            cx, cy, w, h = (x0 + x1) / 2 / size, (y0 + y1) / 2 / size, (x1 - x0) / size, (y1 - y0) / size
            (out / "labels" / f"{i:05d}.txt").write_text(f"{label} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
        (out / "data.yaml").write_text(yaml.safe_dump({"path": ".", "train": "images", "names": classes}))

    def load_index(self, on_bad_sample: str = "error"):
        self.prepare()
        return YoloReader(str(self.root / "data.yaml")).load_index(on_bad_sample)
