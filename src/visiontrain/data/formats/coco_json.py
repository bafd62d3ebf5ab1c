"""A COCO JSON file as exporters really write it, checked before any record is built (box and semantic readers).

Stops (one line naming the file and the record): a required section missing or of the wrong type, an image or
category without its keys, two different images or categories under one id (merged exports), category ids that are
not integers. Assumes and says so once: image ids that are strings or floats ("12", 12.0 → 12; "a7" → images are
numbered in file order), file names that repeat the image folder, absolute or backslashed paths. Repairs and
counts: entries repeated exactly (the same image or annotation twice).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from visiontrain.errors import DataError

REQUIRED = ("images", "annotations", "categories")
DUPLICATE_IMAGES = "duplicate image entries dropped"
DUPLICATE_ANNOTATIONS = "duplicate annotations dropped"


@dataclass
class CocoFile:
    path: Path
    names: list[str]  # category names, in category-id order
    category_ids: list[int]
    images: list[dict]  # in file order, exact repeats dropped; "id" is an int
    anns_by_image: dict[int, list[dict]]  # image id → its annotations ("image_id" an int, exact repeats dropped)
    unknown_image: list[dict] = field(default_factory=list)  # annotations naming an image id the file lacks
    repairs: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: COCO annotation file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def id_key(value: Any) -> int | str | None:
    """An id as exporters write it: ints, integral floats and digit strings are ints; other strings stay strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else str(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return int(text) if text.lstrip("-").isdigit() else text
    return None


def parse_coco(data: Any, path: Path) -> CocoFile:
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a COCO annotation file (the top level is a {type(data).__name__}, "
                        "expected an object with 'images', 'annotations', 'categories')")
    for key in REQUIRED:
        if key not in data:
            hint = (" (without it every image is read as having no objects; write \"annotations\": [] if that is "
                    "what you mean)") if key == "annotations" else ""
            raise DataError(f"{path}: no '{key}' section{hint}")
        if not isinstance(data[key], list):
            raise DataError(f"{path}: '{key}' is a {type(data[key]).__name__}, expected a list")
    notes: list[str] = []
    repairs: Counter = Counter()
    names, cat_ids = _categories(data["categories"], path, notes)
    images, new_id = _images(data["images"], path, notes, repairs)
    by_image: dict[int, list[dict]] = defaultdict(list)
    unknown: list[dict] = []
    seen: set[str] = set()
    ids_seen: Counter = Counter()
    same_box: Counter = Counter()
    for k, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            raise DataError(f"{path}: annotations[{k}] is a {type(ann).__name__}, expected an object")
        for key in ("image_id", "category_id"):
            if key not in ann:
                raise DataError(f"{path}: annotation {ann.get('id', f'#{k}')} has no '{key}'")
        text = json.dumps(ann, sort_keys=True, default=str)
        if text in seen:  # the same annotation twice: an export merged with itself
            repairs[DUPLICATE_ANNOTATIONS] += 1
            continue
        seen.add(text)
        ids_seen[id_key(ann.get("id"))] += 1
        image_id = new_id.get(id_key(ann["image_id"]))
        if image_id is None:
            unknown.append(ann)
            continue
        ann = {**ann, "image_id": image_id, "category_id": id_key(ann["category_id"])}
        same_box[(image_id, ann["category_id"], json.dumps(ann.get("bbox")))] += 1
        by_image[image_id].append(ann)
    repeated = sum(n - 1 for key, n in ids_seen.items() if key is not None and n > 1)
    if repeated:
        notes.append(f"{path}: {repeated} annotation ids are used more than once (merged exports?); each "
                     "annotation is kept as its own object")
    twins = sum(n - 1 for n in same_box.values() if n > 1)
    if twins:
        notes.append(f"{path}: {twins} annotations repeat another's image, category and bbox under another id "
                     "(labelled twice?); both are kept")
    return CocoFile(path, names, cat_ids, images, dict(by_image), unknown, repairs, notes)


def _categories(cats: list, path: Path, notes: list[str]) -> tuple[list[str], list[int]]:
    if not cats:
        raise DataError(f"{path}: the 'categories' list is empty")
    by_id: dict[int, str] = {}
    for k, cat in enumerate(cats):
        if not isinstance(cat, dict) or "id" not in cat or "name" not in cat:
            raise DataError(f"{path}: categories[{k}] needs an 'id' and a 'name' (got {str(cat)[:80]})")
        cid = id_key(cat["id"])
        if not isinstance(cid, int):
            raise DataError(f"{path}: category '{cat['name']}' has id {cat['id']!r}; category ids must be integers")
        name = str(cat["name"])
        if cid in by_id and by_id[cid] != name:
            raise DataError(f"{path}: category id {cid} is used for both '{by_id[cid]}' and '{name}' (merged "
                            "exports need one id per category)")
        by_id[cid] = name
    ids = sorted(by_id)
    names = [by_id[c] for c in ids]
    for name, n in Counter(names).items():
        if n > 1:
            same = [c for c in ids if by_id[c] == name]
            notes.append(f"{path}: categories {same} are all named '{name}': they are trained as {n} classes")
    return names, ids


def _images(images: list, path: Path, notes: list[str], repairs: Counter) -> tuple[list[dict], dict]:
    keys, kept = [], []
    first: dict[Any, dict] = {}
    for k, img in enumerate(images):
        if not isinstance(img, dict):
            raise DataError(f"{path}: images[{k}] is a {type(img).__name__}, expected an object")
        for key in ("id", "file_name"):
            if key not in img or img[key] in (None, ""):
                raise DataError(f"{path}: images[{k}] (id {img.get('id')}) has no '{key}'")
        key = id_key(img["id"])
        if key is None:
            raise DataError(f"{path}: images[{k}] has id {img['id']!r}; expected an integer or a string")
        if key in first:
            if first[key] == img:  # the same entry twice
                repairs[DUPLICATE_IMAGES] += 1
                continue
            raise DataError(f"{path}: image id {img['id']!r} is used by both '{first[key]['file_name']}' and "
                            f"'{img['file_name']}' (merged exports need unique image ids)")
        first[key] = img
        keys.append(key)
        kept.append(img)
    raw = [img["id"] for img in kept]
    if all(isinstance(key, int) for key in keys):
        new_id = {key: key for key in keys}
        loose = [r for r in raw if not isinstance(r, int) or isinstance(r, bool)]
        if loose:
            notes.append(f"{path}: {len(loose)} image ids are not JSON integers (e.g. {loose[0]!r}): read as the "
                         "integers they spell")
    else:
        new_id = {key: n for n, key in enumerate(keys)}
        example = next(r for r, key in zip(raw, keys) if not isinstance(key, int))
        notes.append(f"{path}: image ids are not all integers (e.g. {example!r}): images are numbered 0..{len(keys) - 1}"
                     " in file order (results files use these numbers)")
    names = Counter(str(img["file_name"]) for img in kept)
    twice = [n for n, c in names.items() if c > 1]
    if twice:
        notes.append(f"{path}: {len(twice)} file names are listed under more than one image id (e.g. '{twice[0]}'):"
                     " each entry is read as its own image")
    return [{**img, "id": new_id[key]} for img, key in zip(kept, keys)], new_id


def positive_int(value: Any) -> int | None:
    """A width/height as exporters write it (640, 640.0, "640"); None when absent, zero or not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number > 0 and number.is_integer() else None


def resolve_image(image_dir: Path, file_name: str, notes: Counter) -> Path:
    """The image a ``file_name`` means. Exporters write paths that repeat the image folder ("train/x.jpg" inside
    ``train/``), absolute paths from the labelling machine, or Windows separators; the first that exists is used
    and counted in ``notes`` under what was assumed."""
    name = str(file_name)
    direct = image_dir / name
    if direct.is_file():
        return direct
    parts = PureWindowsPath(name).parts if "\\" in name else Path(name).parts
    candidates = []
    if "\\" in name:
        candidates.append(("file names with Windows '\\' separators", image_dir.joinpath(*parts)))
    if parts and parts[0] == image_dir.name and len(parts) > 1:
        why = f"file names starting with the image folder '{image_dir.name}/' (read relative to {image_dir.parent})"
        candidates.append((why, image_dir.joinpath(*parts[1:])))
    if len(parts) > 1:
        candidates.append(("file names with folders that do not exist here (read by their last part)",
                           image_dir / parts[-1]))
    for why, path in candidates:
        if path.is_file():
            notes[why] += 1
            return path
    return direct
