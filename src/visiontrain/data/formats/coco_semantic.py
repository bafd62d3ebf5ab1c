"""COCO JSON (polygons or RLE) rasterised to semantic class masks with pycocotools.

Class 0 is "background"; COCO categories, whose ids may be sparse, become 1..K in id order. Annotations are painted
in file order (a later one covers an earlier one where they overlap); crowd regions become the ignore value.
Images without annotations are all background.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from visiontrain.data.formats.class_names import near_duplicates
from visiontrain.data.formats.coco_json import CocoFile, parse_coco, positive_int, read_json, resolve_image
from visiontrain.data.formats.coco_segmentation import check_segmentation, to_mask
from visiontrain.data.formats.detection_records import check_size, image_size
from visiontrain.data.formats.notes import say
from visiontrain.data.formats.segmentation_samples import IGNORE_INDEX, SegmentationSamples
from visiontrain.errors import DataError


def rasterise(coco: CocoFile, img: dict, path: Path, label_of: dict[int, int], crowd_ignore: bool = True
              ) -> np.ndarray:
    """The class mask of one image; sizes in the JSON must be the image's (else every polygon lands wrong)."""
    source = str(coco.path)
    w, h = positive_int(img.get("width")), positive_int(img.get("height"))
    if w and h:
        check_size(path, w, h, f"{coco.path.name} (image id {img['id']})")
    else:
        w, h = image_size(path)
    mask = np.zeros((h, w), dtype=np.uint8)
    for ann in coco.anns_by_image.get(img["id"], []):
        where = f"{source}: annotation {ann.get('id')} of image {img['id']}"
        if ann["category_id"] not in label_of:
            raise DataError(f"{source}: annotation {ann.get('id')} has unknown category_id {ann['category_id']}")
        seg = check_segmentation(ann.get("segmentation"), h, w, where)
        if seg is None:
            raise DataError(f"{where} has no 'segmentation' (class masks need polygons or an RLE)")
        crowd = crowd_ignore and ann.get("iscrowd") in (1, True, "1")
        mask[to_mask(seg, h, w, where).astype(bool)] = IGNORE_INDEX if crowd else label_of[ann["category_id"]]
    return mask


class CocoSemanticReader:
    def __init__(self, annotation_file: str, images_dir: str | None = None, crowd_ignore: bool = True) -> None:
        self.annotation_file = Path(annotation_file).expanduser()
        # image file names in the JSON are relative to images_dir (default: the JSON's folder)
        self.images_dir = Path(images_dir).expanduser() if images_dir else self.annotation_file.parent
        self.crowd_ignore = crowd_ignore

    def prepare(self) -> None:
        """Nothing to fetch."""

    def load_index(self) -> SegmentationSamples:
        coco = parse_coco(read_json(self.annotation_file), self.annotation_file)
        label_of = {cid: i + 1 for i, cid in enumerate(coco.category_ids)}
        names = ["background"] + coco.names
        if not coco.images:
            raise DataError(f"{self.annotation_file}: no images listed")
        images, kept, problems = [], [], []
        problems += [f"{self.annotation_file}: annotation {a.get('id')} refers to unknown image_id {a['image_id']}"
                     for a in coco.unknown_image]
        assumed: Counter = Counter()
        for img in coco.images:
            path = resolve_image(self.images_dir, img["file_name"], assumed)
            if path.is_file():
                images.append(path)
                kept.append(img)
            else:
                problems.append(f"{path}: image listed in {self.annotation_file.name} not found")
        if not images:
            raise DataError(f"{self.images_dir}: none of the {len(coco.images)} images of {self.annotation_file} "
                            "exist")
        per_class = Counter(a["category_id"] for anns in coco.anns_by_image.values() for a in anns)
        notes = coco.notes + [f"{self.annotation_file}: {n} {why}" for why, n in sorted(assumed.items())]
        notes += near_duplicates({n: per_class[c] for n, c in zip(coco.names, coco.category_ids)}, "category")
        if coco.repairs:
            notes.append(f"{self.annotation_file}: repaired while reading: "
                         + ", ".join(f"{n} {why}" for why, n in sorted(coco.repairs.items())))
        source = str(self.annotation_file)
        return SegmentationSamples(names, images,
                                   lambda i: rasterise(coco, kept[i], images[i], label_of, self.crowd_ignore),
                                   [f"{source} (image id {img['id']})" for img in kept], problems=problems,
                                   notes=say(notes))
