"""COCO JSON (``instances_*.json``): xywh boxes, polygon/RLE masks, sparse category ids, crowd, empty images.

Category ids are remapped to contiguous labels 0..K-1 in id order; ``DetectionIndex.category_ids`` maps them back
when results are written (``to_coco_results``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.formats.class_names import near_duplicates
from visiontrain.data.formats.coco_json import CocoFile, parse_coco, positive_int, read_json, resolve_image
from visiontrain.data.formats.coco_segmentation import check_segmentation, to_mask
from visiontrain.data.formats.detection_records import (DetectionIndex, Record, check_size, image_size, missing_image,
                                                      sanitize_boxes)
from visiontrain.data.formats.notes import say
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
        notes: list[str] = []
        for split, files in self.split_files.items():
            path = self.root / files.annotations
            coco = parse_coco(read_json(path), path)
            if names is None:
                names, cat_ids = coco.names, coco.category_ids
            elif coco.category_ids != cat_ids:
                raise DataError(f"{path}: categories {coco.category_ids} differ from the training file's {cat_ids}")
            start = len(records)
            records += coco_records(coco, self.root / files.images, cat_ids, skipped, bad, notes)
            splits[split] = np.arange(start, len(records))
            skipped.update(coco.repairs)
            notes += coco.notes
        skipped.update(bad.counts)
        notes += near_duplicates(_objects_per_class(records, names or []), "category")
        return DetectionIndex(names or [], records, splits, cat_ids, skipped, bad.lines, say(notes))


def _objects_per_class(records: list[Record], names: list[str]) -> dict[str, int]:
    counts = np.bincount(np.concatenate([r.labels for r in records] or [np.zeros(0, np.int64)]),
                         minlength=len(names))
    return dict(zip(names, counts.tolist()))


def coco_records(coco: CocoFile, image_dir: Path, cat_ids: Sequence[int], skipped: Counter, bad: BadSamples,
                 notes: list[str]) -> list[Record]:
    label_of = {cid: i for i, cid in enumerate(cat_ids)}
    path = coco.path
    for ann in coco.unknown_image:
        bad.add(f"{path}: annotation {ann.get('id')} refers to unknown image_id {ann['image_id']}",
                "annotations without an image skipped")
    records = []
    assumed: Counter = Counter()
    for img in coco.images:
        file = resolve_image(image_dir, img["file_name"], assumed)
        if missing_image(file, bad):
            continue
        rec = bad.guard("images with a bad image file or annotation skipped", _record, path, file, img["id"], img,
                        coco.anns_by_image.get(img["id"], []), label_of, skipped, assumed)
        if rec is not None:
            records.append(rec)
    notes += [f"{path}: {n} {why}" for why, n in sorted(assumed.items())]
    return records


def _record(path: Path, file: Path, image_id: int, img: dict, anns: list[dict], label_of: dict[int, int],
            skipped: Counter, assumed: Counter) -> Record:
    where = f"{path} (image {file.name}, id {image_id})"
    w, h = positive_int(img.get("width")), positive_int(img.get("height"))
    if w and h:
        check_size(file, w, h, path.name)
    else:
        if "width" in img or "height" in img:
            assumed["images whose width/height is zero or not a number (sizes read from the image files)"] += 1
        w, h = image_size(file)
    for a in anns:
        if a["category_id"] not in label_of:
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
    segs = [check_segmentation(a.get("segmentation"), h, w, f"{where}: annotation {a.get('id')}", assumed)
            for a in kept]
    return Record(
        path=file, image_id=image_id, width=w, height=h, boxes=boxes[keep],
        labels=np.asarray([label_of[a["category_id"]] for a in kept], dtype=np.int64),
        iscrowd=np.asarray([_flag(a.get("iscrowd", 0), where, a) for a in kept], dtype=np.uint8),
        area=np.asarray([_area(a.get("area"), b) for a, b in zip(kept, xywh[keep])], dtype=np.float32),
        masks=_mask_decoder(segs, h, w, [f"{where}: annotation {a.get('id')}" for a in kept], file),
    )


def _flag(value, where: str, ann: dict) -> int:
    if value in (0, 1, "0", "1", None):  # (True/False compare equal to 1/0)
        return int(value or 0)
    raise DataError(f"{where}: annotation {ann.get('id')} has iscrowd {value!r}; expected 0 or 1")


def _area(value, xywh: np.ndarray) -> float:
    """The dataset's own area; the box's when an exporter left it out or wrote something that is not a number."""
    try:
        area = float(value)
    except (TypeError, ValueError):
        return float(xywh[2] * xywh[3])
    return area if np.isfinite(area) and area >= 0 else float(xywh[2] * xywh[3])


def _mask_decoder(segs: list, h: int, w: int, wheres: list[str], file: Path):
    def decode() -> np.ndarray:
        if any(s is None for s in segs):
            raise DataError(f"{file}: an annotation has no 'segmentation' (instance masks were asked for)")
        return np.stack([to_mask(s, h, w, at) for s, at in zip(segs, wheres)]) if segs else \
            np.zeros((0, h, w), np.uint8)

    return decode


def segmentation_to_mask(seg: Any, h: int, w: int) -> np.ndarray:
    """Polygons, uncompressed RLE or compressed RLE → HxW uint8 {0,1} (pycocotools does the rasterising)."""
    return to_mask(check_segmentation(seg, h, w, "segmentation"), h, w, "segmentation")


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
