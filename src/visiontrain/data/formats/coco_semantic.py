"""COCO JSON (polygons or RLE) rasterised to semantic class masks with pycocotools.

Class 0 is "background"; COCO categories, whose ids may be sparse, become 1..K in id order. Annotations are painted
in file order (a later one covers an earlier one where they overlap); crowd regions become the ignore value.
Images without annotations are all background.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np

from visiontrain.data.formats.segmentation_samples import IGNORE_INDEX, SegmentationSamples
from visiontrain.errors import DataError


def load_coco(annotation_file: Path):
    from pycocotools.coco import COCO

    if not annotation_file.is_file():
        raise DataError(f"{annotation_file}: COCO annotation file not found")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress lines
            return COCO(str(annotation_file))
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        raise DataError(f"{annotation_file}: not a COCO annotation file ({type(exc).__name__}: {exc})") from None


def rasterise(coco, image_id: int, label_of: dict[int, int], source: str, crowd_ignore: bool = True) -> np.ndarray:
    info = coco.imgs[image_id]
    mask = np.zeros((int(info["height"]), int(info["width"])), dtype=np.uint8)
    for ann in coco.imgToAnns.get(image_id, []):
        try:
            region = coco.annToMask(ann).astype(bool)
        except Exception as exc:  # malformed polygon / RLE
            raise DataError(f"{source}: annotation {ann.get('id')} of image {image_id} cannot be rasterised "
                            f"({type(exc).__name__})") from None
        if ann.get("category_id") not in label_of:
            raise DataError(f"{source}: annotation {ann.get('id')} has unknown category_id {ann.get('category_id')}")
        mask[region] = IGNORE_INDEX if crowd_ignore and ann.get("iscrowd", 0) else label_of[ann["category_id"]]
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
        coco = load_coco(self.annotation_file)
        cat_ids = sorted(coco.cats)
        label_of = {cid: i + 1 for i, cid in enumerate(cat_ids)}
        names = ["background"] + [str(coco.cats[c].get("name", c)) for c in cat_ids]
        image_ids = sorted(coco.imgs)
        if not image_ids:
            raise DataError(f"{self.annotation_file}: no images listed")
        images, ids, problems = [], [], []
        for image_id in image_ids:
            path = self.images_dir / coco.imgs[image_id]["file_name"]
            if path.is_file():
                images.append(path)
                ids.append(image_id)
            else:
                problems.append(f"{path}: image listed in {self.annotation_file.name} not found")
        if not images:
            raise DataError(f"{self.images_dir}: none of the {len(image_ids)} images of {self.annotation_file} exist")
        source = str(self.annotation_file)
        return SegmentationSamples(names, images,
                                   lambda i: rasterise(coco, ids[i], label_of, source, self.crowd_ignore),
                                   [f"{source} (image id {i})" for i in ids], problems=problems)
