"""Generated "shapes-det": several shapes per image (overlapping, never more than ``max_occlusion`` hidden),
small and large, on photographic/texture backgrounds. The same images are written with COCO, YOLO and VOC
annotations and instance-id mask PNGs, then read back through the reader of ``format`` like users' data:

    root/images/<split>/00000.png       root/labels/<split>/00000.txt (YOLO)   root/data.yaml (YOLO)
    root/annotations/<split>.json (COCO: sparse category ids 1, 3, 5, …; RLE masks of the visible pixels)
    root/Annotations/<split>/00000.xml  root/ImageSets/Main/<split>.txt (VOC)  root/masks/<split>/00000.png
Boxes are the extents of each shape's visible pixels, so every format describes exactly the same objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from PIL import Image, ImageDraw

from visiontrain.data.formats.coco import CocoReader, CocoSplit
from visiontrain.data.formats.detection_records import DetectionIndex
from visiontrain.data.formats.instance_masks import InstanceMaskReader
from visiontrain.data.formats.voc import VocReader, write_xml
from visiontrain.data.formats.yolo import YoloReader
from visiontrain.data.synthetic.backgrounds import random_background
from visiontrain.data.synthetic.shapes import SHAPE_KINDS, PlacedShape, draw, random_shape
from visiontrain.data.synthetic.shapes_classification import write_once
from visiontrain.errors import ConfigError

SPLITS = ("train", "val", "test")


def category_id(label: int) -> int:
    return 2 * label + 1  # deliberately sparse, like COCO's own ids


class ShapesDetection:
    def __init__(self, root: str, classes: Sequence[str] = SHAPE_KINDS[:4], num_train: int = 400, num_val: int = 60,
                 num_test: int = 60, image_size: int = 256, min_objects: int = 1, max_objects: int = 5,
                 min_size: float = 0.12, max_size: float = 0.5, max_occlusion: float = 0.4, seed: int = 0,
                 format: Literal["coco", "yolo", "voc", "instance_masks"] = "coco") -> None:
        unknown = [c for c in classes if c not in SHAPE_KINDS]
        if unknown:
            raise ConfigError(f"data.source.classes: unknown shapes {unknown}; valid choices: {', '.join(SHAPE_KINDS)}")
        self.root, self.format = Path(root).expanduser(), format
        self.params = {"kind": "shapes-detection", "classes": list(classes), "num_train": int(num_train),
                       "num_val": int(num_val), "num_test": int(num_test), "image_size": int(image_size),
                       "min_objects": int(min_objects), "max_objects": int(max_objects), "min_size": float(min_size),
                       "max_size": float(max_size), "max_occlusion": float(max_occlusion), "seed": int(seed),
                       "version": 1}

    def prepare(self) -> None:
        write_once(self.root, self.params, self._write)

    def reader(self, format: str | None = None):
        fmt = format or self.format
        if fmt == "coco":
            return CocoReader(str(self.root), *(CocoSplit(f"annotations/{s}.json", "images") for s in SPLITS))
        if fmt == "yolo":
            return YoloReader(str(self.root / "data.yaml"))
        if fmt == "voc":
            return VocReader(str(self.root), *(f"ImageSets/Main/{s}.txt" for s in SPLITS), images="images",
                             class_names=self.params["classes"])
        return InstanceMaskReader(str(self.root), images="images", masks="masks", mask_suffix="")

    def load_index(self, on_bad_sample: str = "error") -> DetectionIndex:
        self.prepare()  # cheap when present
        return self.reader().load_index(on_bad_sample)

    # --- writing -------------------------------------------------------------------------------------------------
    def _write(self, out: Path) -> None:
        p = self.params
        rng = np.random.default_rng(p["seed"])
        names = p["classes"]
        (out / "data.yaml").write_text(json.dumps({"path": ".", "train": "images/train", "val": "images/val",
                                                   "test": "images/test", "names": names}))
        for split in SPLITS:
            coco = {"images": [], "annotations": [], "categories": [
                {"id": category_id(k), "name": n, "supercategory": "shape"} for k, n in enumerate(names)]}
            ids = []
            for i in range(p[f"num_{split}"]):
                stem = f"{split}/{i:05d}"
                ids.append(stem)
                image, objects, id_map = self._image(rng)
                for folder in ("images", "labels", "masks", "Annotations"):
                    (out / folder / split).mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(out / "images" / f"{stem}.png")
                Image.fromarray(id_map).save(out / "masks" / f"{stem}.png")
                self._annotate(out, stem, len(coco["images"]) + 1, objects, id_map, coco)
            (out / "annotations").mkdir(exist_ok=True)
            (out / "annotations" / f"{split}.json").write_text(json.dumps(coco))
            (out / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
            (out / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{s}\n" for s in ids))

    def _image(self, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, PlacedShape]], np.ndarray]:
        p, size = self.params, self.params["image_size"]
        background = random_background(rng, size)
        placed: list[tuple[int, PlacedShape, np.ndarray]] = []  # label, shape, full (unoccluded) mask
        target = int(rng.integers(p["min_objects"], p["max_objects"] + 1))
        for _ in range(target * 10):
            if len(placed) == target:
                break
            label = int(rng.integers(len(p["classes"])))
            shape = random_shape(rng, p["classes"][label], size, p["min_size"], p["max_size"], background)
            full = _rasterise(shape, size)
            if full.sum() < 16 or not self._occlusion_ok(placed, full):
                continue
            placed.append((label, shape, full))
        image = Image.fromarray(background)
        id_map = np.zeros((size, size), np.uint8)
        for k, (_, shape, full) in enumerate(placed, start=1):  # later shapes lie on top
            draw(image, shape)
            id_map[full] = k
        return np.asarray(image), [(label, shape) for label, shape, _ in placed], id_map

    def _occlusion_ok(self, placed, new: np.ndarray) -> bool:
        covered = new.copy()
        for _, _, full in reversed(placed):  # check each earlier shape against everything drawn above it
            visible = full & ~covered
            if visible.sum() < (1 - self.params["max_occlusion"]) * full.sum():
                return False
            covered |= full
        return True

    def _annotate(self, out: Path, stem: str, image_id: int, objects, id_map: np.ndarray, coco: dict) -> None:
        from pycocotools import mask as mask_utils

        size = self.params["image_size"]
        names = self.params["classes"]
        coco["images"].append({"id": image_id, "file_name": f"{stem}.png", "width": size, "height": size})
        yolo_lines, voc_objects = [], []
        for k, (label, _) in enumerate(objects, start=1):
            visible = id_map == k
            ys, xs = np.nonzero(visible)
            x1, y1, x2, y2 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
            rle = mask_utils.encode(np.asfortranarray(visible.astype(np.uint8)))
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": category_id(label),
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": int(visible.sum()), "iscrowd": 0,
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")}})
            yolo_lines.append(f"{label} {(x1 + x2) / 2 / size:.8f} {(y1 + y2) / 2 / size:.8f} "
                              f"{(x2 - x1) / size:.8f} {(y2 - y1) / size:.8f}\n")
            voc_objects.append((names[label], [x1, y1, x2, y2], False))
        (out / "labels" / f"{stem}.txt").write_text("".join(yolo_lines))
        write_xml(out / "Annotations" / f"{stem}.xml", Path(stem).name + ".png", size, size, voc_objects)


def _rasterise(shape: PlacedShape, size: int) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).polygon(shape.polygon(), fill=1)
    return np.asarray(canvas).astype(bool)
