"""YOLO txt (Ultralytics layout): a data YAML naming image folders and classes; per image a ``labels/…/<stem>.txt``
with one ``cls cx cy w h`` line per object, normalised to the image size. An image without a label file is a
negative (no objects). Polygon lines (``cls x1 y1 x2 y2 …``, YOLO-seg) give their enclosing box.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.formats.class_names import near_duplicates
from visiontrain.data.formats.detection_records import DetectionIndex, Record, image_size, sanitize_boxes
from visiontrain.data.formats.notes import say
from visiontrain.errors import DataError
from visiontrain.imaging import is_image_file


class YoloReader:
    def __init__(self, data_yaml: str) -> None:
        self.data_yaml = Path(data_yaml).expanduser()

    def prepare(self) -> None:
        """Nothing to fetch: the user's files are read as they are."""

    def _spec(self) -> tuple[Path, dict, list[str]]:
        import yaml

        try:
            spec = yaml.safe_load(self.data_yaml.read_text()) or {}
        except FileNotFoundError:
            raise DataError(f"{self.data_yaml}: YOLO data YAML not found (set data.source.data_yaml)") from None
        except yaml.YAMLError as exc:
            raise DataError(f"{self.data_yaml}: not valid YAML ({str(exc).splitlines()[0]})") from None
        names = spec.get("names")
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        if not names or "train" not in spec:
            raise DataError(f"{self.data_yaml}: needs 'train' (image folder) and 'names' (class names)")
        root = Path(spec.get("path") or ".").expanduser()
        root = root if root.is_absolute() else self.data_yaml.parent / root
        return root, spec, [str(n) for n in names]

    def load_index(self, on_bad_sample: str = "error") -> DetectionIndex:
        root, spec, names = self._spec()
        records: list[Record] = []
        splits: dict[str, np.ndarray] = {}
        skipped: Counter = Counter()
        bad = BadSamples(on_bad_sample)
        notes: list[str] = []
        for split in ("train", "val", "test"):
            if not spec.get(split):
                continue
            start = len(records)
            paths = self._images(root, spec[split])
            notes += _unlabelled(paths, split, self.data_yaml)
            for path in paths:
                rec = self._record(path, len(records), len(names), bad, skipped)
                if rec is not None:
                    records.append(rec)
            splits[split] = np.arange(start, len(records))
        skipped.update(bad.counts)
        per_class = np.bincount(np.concatenate([r.labels for r in records] or [np.zeros(0, np.int64)]),
                                minlength=len(names))
        notes += near_duplicates(dict(zip(names, per_class.tolist())))
        return DetectionIndex(names, records, splits, None, skipped, bad.lines, say(notes))

    def _images(self, root: Path, entry) -> list[Path]:
        paths: list[Path] = []
        for item in entry if isinstance(entry, list) else [entry]:
            p = root / item
            if p.is_dir():
                paths += sorted(f for f in p.rglob("*") if f.is_file() and is_image_file(f))
            elif p.suffix == ".txt" and p.is_file():  # a list of image paths, relative to root
                paths += [root / line.strip() for line in p.read_text().splitlines() if line.strip()]
            else:
                raise DataError(f"{self.data_yaml}: '{item}' is neither an image folder nor a list file under {root}")
        return paths

    def _record(self, path: Path, image_id: int, num_classes: int, bad: BadSamples, skipped: Counter):
        size = bad.guard("missing or unreadable images skipped", image_size, path)
        if size is None:
            return None
        return bad.guard("images with bad labels skipped", _labelled_record, path, image_id, size, num_classes,
                         skipped)


def _unlabelled(paths: list[Path], split: str, data_yaml: Path) -> list[str]:
    """A split without a single label file is a labels folder that was not copied, not a split of negatives."""
    missing = sum(not label_path(p).is_file() for p in paths)
    if paths and missing == len(paths):
        raise DataError(f"{label_path(paths[0]).parent}: no label file for any of the {len(paths)} '{split}' images "
                        f"(expected <stem>.txt under labels/ where the image path has images/); without them every "
                        "image would be read as having no objects")
    if missing:
        return [(f"{data_yaml}: {missing} of {len(paths)} '{split}' images have no label file: read as images "
                 "without objects")]
    return []


def _labelled_record(path: Path, image_id: int, size: tuple[int, int], num_classes: int, skipped: Counter) -> Record:
    w, h = size
    labels = label_path(path)
    rows = read_label_file(labels, num_classes)
    cx, cy, bw, bh = (rows[:, i] for i in range(1, 5))
    xyxy = np.stack([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h], axis=1)
    boxes, keep = sanitize_boxes(xyxy, w, h, f"{labels} (boxes are normalised cx cy w h)", skipped)
    return Record(path, image_id, w, h, boxes[keep], rows[keep, 0].astype(np.int64))


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder in the path becomes ``labels``, the suffix ``.txt``."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_label_file(path: Path, num_classes: int) -> np.ndarray:
    """(N, 5) float64 rows ``cls cx cy w h``; a missing file is an image without objects."""
    if not path.is_file():
        return np.zeros((0, 5))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text label file (not UTF-8)") from None
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        values = line.split()
        if not values:
            continue
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            raise DataError(f"{path}:{n}: not numbers: '{line.strip()}'") from None
        if not np.isfinite(numbers).all():
            raise DataError(f"{path}:{n}: NaN or infinite value: '{line.strip()}'")
        cls = numbers[0]
        if cls != int(cls) or not 0 <= cls < num_classes:
            raise DataError(f"{path}:{n}: unknown class id {values[0]} (the data YAML names {num_classes} classes)")
        if len(numbers) == 5:
            rows.append(numbers)
        elif len(numbers) >= 7 and len(numbers) % 2 == 1:  # polygon: its enclosing box
            xs, ys = numbers[1::2], numbers[2::2]
            rows.append([cls, (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)])
        else:
            raise DataError(f"{path}:{n}: expected 'cls cx cy w h' (5 numbers), got {len(numbers)}")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 5)
