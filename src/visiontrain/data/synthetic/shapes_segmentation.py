"""Generated "shapes-seg": several shapes per image on photo/texture backgrounds; every pixel's class is the kind of
the shape on top (0 = background).

Written once to disk in two formats and read back by the same readers users' data goes through:
``images/*.png`` + ``masks/*.png`` (palette PNGs of class indices, with ``classes.txt``) and ``annotations.json``
(COCO polygons in drawing order). ``format`` chooses which of the two is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from PIL import Image

from visiontrain.data.formats.coco_semantic import CocoSemanticReader
from visiontrain.data.formats.mask_folder import MaskFolderReader
from visiontrain.data.formats.segmentation_samples import SegmentationSamples
from visiontrain.data.synthetic.backgrounds import random_background
from visiontrain.data.synthetic.shapes import SHAPE_KINDS, PlacedShape, draw, random_shape
from visiontrain.data.synthetic.shapes_classification import write_once


def palette(num_classes: int) -> list[int]:
    """Distinct colours for class indices (0 black, 255 white = ignore): masks are readable in any image viewer."""
    import colorsys

    colours = [(0, 0, 0)] + [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(i / max(num_classes - 1, 1), 0.9, 0.95))
                             for i in range(num_classes - 1)]
    flat = [v for c in colours for v in c] + [0] * 3 * (256 - num_classes)
    flat[255 * 3:] = [255, 255, 255]
    return flat


def _polygon_area(points: list[tuple[float, float]]) -> float:
    xs, ys = np.array(points).T
    return float(abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) / 2)


def _coco_annotation(shape: PlacedShape, ann_id: int, image_id: int, category_id: int, size: int) -> dict:
    poly = shape.polygon()
    x0, y0, x1, y1 = shape.box_xyxy(size, size)
    return {"id": ann_id, "image_id": image_id, "category_id": category_id, "iscrowd": 0,
            "segmentation": [[round(v, 2) for pt in poly for v in pt]], "area": _polygon_area(poly),
            "bbox": [x0, y0, x1 - x0, y1 - y0]}


class ShapesSegmentation:
    def __init__(self, root: str, classes: Sequence[str] = SHAPE_KINDS[:4], count: int = 600, image_size: int = 64,
                 min_shapes: int = 1, max_shapes: int = 3, min_size: float = 0.3, max_size: float = 0.6,
                 seed: int = 0, format: Literal["mask_folder", "coco"] = "mask_folder") -> None:
        unknown = [c for c in classes if c not in SHAPE_KINDS]
        if unknown:
            from visiontrain.errors import ConfigError

            raise ConfigError(f"data.source.classes: unknown shapes {unknown}; valid choices: {', '.join(SHAPE_KINDS)}")
        self.root = Path(root).expanduser()
        self.format = format
        self.params = {"kind": "shapes-segmentation", "classes": list(classes), "count": int(count),
                       "image_size": int(image_size), "min_shapes": int(min_shapes), "max_shapes": int(max_shapes),
                       "min_size": float(min_size), "max_size": float(max_size), "seed": int(seed), "version": 1}

    @property
    def class_names(self) -> list[str]:
        return ["background", *self.params["classes"]]

    def prepare(self) -> None:
        write_once(self.root, self.params, self._write)

    def _write(self, out: Path) -> None:
        p = self.params
        rng = np.random.default_rng(p["seed"])
        size, classes = p["image_size"], p["classes"]
        (out / "images").mkdir(parents=True)
        (out / "masks").mkdir()
        (out / "classes.txt").write_text("\n".join(self.class_names) + "\n")
        coco = {"images": [], "annotations": [],
                "categories": [{"id": i + 1, "name": c, "supercategory": "shape"} for i, c in enumerate(classes)]}
        for i in range(p["count"]):
            background = random_background(rng, size)
            image = Image.fromarray(background)
            mask = Image.new("P", (size, size), 0)
            mask.putpalette(palette(len(classes) + 1))
            coco["images"].append({"id": i + 1, "file_name": f"images/{i:05d}.png", "width": size, "height": size})
            for _ in range(int(rng.integers(p["min_shapes"], p["max_shapes"] + 1))):
                label = int(rng.integers(len(classes)))
                shape = random_shape(rng, classes[label], size, p["min_size"], p["max_size"], background)
                draw(image, shape)
                # the mask is drawn from the same polygon, so image and mask agree to the pixel
                draw(mask, PlacedShape(shape.kind, shape.cx, shape.cy, shape.radius, shape.angle, label + 1))
                coco["annotations"].append(_coco_annotation(shape, len(coco["annotations"]) + 1, i + 1, label + 1,
                                                            size))
            image.save(out / "images" / f"{i:05d}.png")
            mask.save(out / "masks" / f"{i:05d}.png")
        (out / "annotations.json").write_text(json.dumps(coco))

    def load_index(self) -> SegmentationSamples:
        self.prepare()  # cheap when present
        if self.format == "coco":
            return CocoSemanticReader(str(self.root / "annotations.json"), str(self.root)).load_index()
        return MaskFolderReader(str(self.root)).load_index()
