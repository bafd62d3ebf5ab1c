"""COCO JSON (``instances_*.json``): xywh boxes, polygon/RLE masks, sparse category ids, crowd, empty images.

Category ids are remapped to contiguous labels 0..K-1 in id order; ``DetectionIndex.category_ids`` maps them back
when results are written (``to_coco_results``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.formats.detection_records import (DetectionIndex, Record, check_size, image_size, missing_image,
                                                      sanitize_boxes)
from visiontrain.errors import DataError


@dataclass
class CocoSplit:
    annotations: str  # JSON file, relative to root
    images: str = "."  # folder that ``file_name`` is relative to, relative to root


class CocoReader:
    def __init__(self, root: str, train: CocoSplit | dict | str = "auto",
                 val: CocoSplit | dict | str | None = "auto", test: CocoSplit | dict | str | None = None) -> None:
        self.root = Path(root).expanduser()
        self._given = {"train": train, "val": val, "test": test}  # "auto": found under root (coco_layout)

    @property
    def split_files(self) -> dict[str, CocoSplit]:
        from visiontrain.data.formats.coco_layout import resolve_splits

        as_split = lambda s: s if s is None or isinstance(s, CocoSplit) else CocoSplit(**s)  # noqa: E731
        return {k: as_split(v) for k, v in resolve_splits(self.root, self._given).items() if v}

    def prepare(self) -> None:
        """Nothing to fetch: the user's files are read as they are."""

    def load_index(self, on_bad_sample: str = "error") -> DetectionIndex:
        records: list[Record] = []
        splits: dict[str, np.ndarray] = {}
        skipped: Counter = Counter()
        bad = BadSamples(on_bad_sample)
        names: list[str] | None = None
        cat_ids: list[int] | None = None
        for split, files in self.split_files.items():
            data = read_json(self.root / files.annotations)
            n, ids = _categories(data, self.root / files.annotations)
            if names is None:
                names, cat_ids = n, ids
            elif ids != cat_ids:
                raise DataError(f"{self.root / files.annotations}: categories {ids} differ from the training "
                                f"file's {cat_ids}")
            start = len(records)
            records += coco_records(data, self.root / files.annotations, self.root / files.images, cat_ids,
                                    skipped, bad)
            splits[split] = np.arange(start, len(records))
        skipped.update(bad.counts)
        return DetectionIndex(names or [], records, splits, cat_ids, skipped, bad.lines)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: COCO annotation file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def _categories(data: dict, path: Path) -> tuple[list[str], list[int]]:
    cats = sorted(data.get("categories") or [], key=lambda c: c["id"])
    if not cats:
        raise DataError(f"{path}: no 'categories' list")
    return [str(c["name"]) for c in cats], [int(c["id"]) for c in cats]


def coco_records(data: dict, path: Path, image_dir: Path, cat_ids: Sequence[int], skipped: Counter,
                 bad: BadSamples) -> list[Record]:
    label_of = {cid: i for i, cid in enumerate(cat_ids)}
    by_image: dict[int, list[dict]] = defaultdict(list)
    images = {int(img["id"]): img for img in data.get("images", [])}
    for ann in data.get("annotations", []):
        if int(ann["image_id"]) not in images:
            bad.add(f"{path}: annotation {ann.get('id')} refers to unknown image_id {ann['image_id']}",
                    "annotations without an image skipped")
            continue
        by_image[int(ann["image_id"])].append(ann)
    records = []
    for image_id, img in images.items():
        file = image_dir / img["file_name"]
        if missing_image(file, bad):
            continue
        rec = bad.guard("images with a bad image file or annotation skipped", _record, path, file, image_id, img,
                        by_image.get(image_id, []), label_of, skipped)
        if rec is not None:
            records.append(rec)
    return records


def _record(path: Path, file: Path, image_id: int, img: dict, anns: list[dict], label_of: dict[int, int],
            skipped: Counter) -> Record:
    where = f"{path} (image {file.name}, id {image_id})"
    if img.get("width") and img.get("height"):
        w, h = int(img["width"]), int(img["height"])
        check_size(file, w, h, path.name)
    else:
        w, h = image_size(file)
    for a in anns:
        if int(a["category_id"]) not in label_of:
            raise DataError(f"{where}: annotation {a.get('id')} has unknown category_id {a['category_id']} "
                            f"(categories: {list(label_of)})")
        if len(np.asarray(a.get("bbox", []), dtype=object).reshape(-1)) != 4:
            raise DataError(f"{where}: annotation {a.get('id')} has bbox {a.get('bbox')}; expected [x, y, w, h]")
    try:
        xywh = np.asarray([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
    except (TypeError, ValueError):
        raise DataError(f"{where}: a bbox holds something that is not a number") from None
    xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    boxes, keep = sanitize_boxes(xyxy, w, h, where, skipped, [f"annotation {a.get('id')}" for a in anns])
    kept = [a for a, k in zip(anns, keep) if k]
    return Record(
        path=file, image_id=image_id, width=w, height=h, boxes=boxes[keep],
        labels=np.asarray([label_of[int(a["category_id"])] for a in kept], dtype=np.int64),
        iscrowd=np.asarray([int(a.get("iscrowd", 0)) for a in kept], dtype=np.uint8),
        area=np.asarray([float(a.get("area", 0.0)) for a in kept], dtype=np.float32),
        masks=_mask_decoder(kept, h, w, file),
    )


def _mask_decoder(anns: list[dict], h: int, w: int, file: Path):
    segs = [a.get("segmentation") for a in anns]

    def decode() -> np.ndarray:
        if any(not s for s in segs):
            raise DataError(f"{file}: an annotation has no 'segmentation' (instance masks were asked for)")
        return np.stack([segmentation_to_mask(s, h, w) for s in segs]) if segs else np.zeros((0, h, w), np.uint8)

    return decode


def segmentation_to_mask(seg: Any, h: int, w: int) -> np.ndarray:
    """Polygons, uncompressed RLE or compressed RLE → HxW uint8 {0,1} (pycocotools does the rasterising)."""
    from pycocotools import mask as mask_utils

    if isinstance(seg, list):  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    elif isinstance(seg.get("counts"), list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(seg, h, w)
    else:
        rle = seg
    return mask_utils.decode(rle).astype(np.uint8)


def to_coco_results(image_ids: Sequence[int], predictions: Sequence[dict], category_ids: Sequence[int] | None
                    ) -> list[dict]:
    """Predictions (xyxy boxes, scores, labels 0..K-1, optional masks) → COCO results with the dataset's ids."""
    out = []
    for image_id, pred in zip(image_ids, predictions):
        boxes = np.asarray(pred["boxes"], dtype=np.float64).reshape(-1, 4)
        masks = pred.get("masks")
        for k, (box, score, label) in enumerate(zip(boxes, np.asarray(pred["scores"]), np.asarray(pred["labels"]))):
            cat = int(category_ids[int(label)]) if category_ids else int(label)
            item = {"image_id": int(image_id), "category_id": cat, "score": float(score),
                    "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]}
            if masks is not None:
                from pycocotools import mask as mask_utils

                rle = mask_utils.encode(np.asfortranarray(np.asarray(masks[k], dtype=np.uint8)))
                item["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
            out.append(item)
    return out
