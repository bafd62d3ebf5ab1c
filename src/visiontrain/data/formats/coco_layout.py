"""Where a COCO dataset keeps its files: ``data.source.train/val/test: auto`` looks for the usual layouts under the
root, in this order, and the error lists them all when none is there."""

from __future__ import annotations

import logging
from pathlib import Path

from visiontrain.errors import DataError

log = logging.getLogger(__name__)

# (annotation file, image folder), relative to the root; {split} is train / val / test
LAYOUTS = (
    ("annotations/instances_{split}.json", "{split}"),
    ("annotations/instances_{split}2017.json", "{split}2017"),  # COCO 2017 as downloaded
    ("annotations/instances_{split}2014.json", "{split}2014"),
    ("{folder}/_annotations.coco.json", "{folder}"),  # Roboflow's COCO export (its val folder is "valid")
)
_FOLDERS = {"train": ("train",), "val": ("val", "valid"), "test": ("test",)}


def find_split(root: Path, split: str) -> dict | None:
    """``{"annotations": …, "images": …}`` of the first layout present for ``split``, or None."""
    for annotations, images in LAYOUTS:
        for folder in _FOLDERS[split]:
            ann, img = annotations.format(split=split, folder=folder), images.format(split=split, folder=folder)
            if (root / ann).is_file() and (root / img).is_dir():
                log.info(f"COCO {split}: {root / ann} with images in {root / img}")
                return {"annotations": ann, "images": img}
    return None


def resolve_splits(root: Path, splits: dict) -> dict:
    """Each ``auto`` split replaced by the layout found; ``train`` must be found, ``val``/``test`` may be absent."""
    resolved = dict(splits)
    for split, value in splits.items():
        if value != "auto":
            continue
        resolved[split] = find_split(root, split)
        if resolved[split] is None and split == "train":
            looked = "; ".join(f"{a.format(split='train', folder='train')} + {i.format(split='train', folder='train')}/"
                               for a, i in LAYOUTS)
            raise DataError(f"{root}: no COCO training split found; looked for {looked} (or set "
                            "data.source.train={annotations: FILE, images: FOLDER})")
    return resolved
