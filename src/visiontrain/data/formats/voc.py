"""Pascal VOC: ``Annotations/<id>.xml``, ``JPEGImages/<id>.jpg``, ``ImageSets/Main/<split>.txt`` listing ids.

VOC pixel coordinates are 1-based and inclusive; like Detectron2, ``xmin``/``ymin`` move by -1 so that a box
covering the whole image is [0, 0, W, H]. ``difficult`` objects are kept with their flag (the datamodule leaves
them out of training by default and evaluation ignores them).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.formats.class_names import near_duplicates
from visiontrain.data.formats.detection_records import (DetectionIndex, Record, check_size, image_size, missing_image,
                                                      sanitize_boxes)
from visiontrain.data.formats.notes import say
from visiontrain.errors import DataError

log = logging.getLogger(__name__)
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def voc_year_folder(root: Path, annotations: str = "Annotations") -> Path:
    """``root`` itself when it holds the VOC folders; a VOCdevkit holding one ``VOC<year>`` folder: that folder (the
    layout VOC downloads unpack to). Several years: an error naming them (which one is the user's choice)."""
    if not root.is_dir() or (root / annotations).is_dir() or (root / "ImageSets").is_dir():
        return root
    years = sorted(p for p in root.iterdir() if p.is_dir() and (p / annotations).is_dir())
    if len(years) == 1:
        log.info(f"{root}: VOC data found in {years[0].name}/")
        return years[0]
    if years:
        names = ", ".join(p.name for p in years)
        raise DataError(f"{root}: a VOCdevkit with {names}; set data.source.root={years[-1]} (one year per dataset)")
    raise DataError(f"{root}: no VOC layout found; looked for {annotations}/ + JPEGImages/ + ImageSets/Main/, here "
                    f"or in one subfolder (VOCdevkit/VOC2012/)")


class VocReader:
    def __init__(self, root: str, train: str = "ImageSets/Main/train.txt", val: str | None = "ImageSets/Main/val.txt",
                 test: str | None = None, images: str = "JPEGImages", annotations: str = "Annotations",
                 class_names: list[str] | None = None) -> None:
        self.root = voc_year_folder(Path(root).expanduser(), annotations)
        self.split_files = {k: v for k, v in (("train", train), ("val", val), ("test", test)) if v}
        self.images, self.annotations = self.root / images, self.root / annotations
        self.class_names = list(class_names) if class_names else None

    def prepare(self) -> None:
        """Nothing to fetch: the user's files are read as they are."""

    def _ids(self, list_file: str) -> list[str]:
        path = self.root / list_file
        if not path.is_file():
            raise DataError(f"{path}: VOC image-set file not found (expected one image id per line)")
        return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]

    def load_index(self, on_bad_sample: str = "error") -> DetectionIndex:
        ids = {split: self._ids(f) for split, f in self.split_files.items()}
        bad = BadSamples(on_bad_sample)
        parsed = {i: bad.guard("images with a bad annotation file skipped", parse_xml, self.annotations / f"{i}.xml")
                  for split_ids in ids.values() for i in split_ids}
        names = self.class_names or sorted({o["name"] for p in parsed.values() if p for o in p["objects"]})
        label_of = {n: k for k, n in enumerate(names)}
        records: list[Record] = []
        splits: dict[str, np.ndarray] = {}
        skipped: Counter = Counter()
        for split, split_ids in ids.items():
            start = len(records)
            for image_id in split_ids:
                if parsed[image_id] is None:
                    continue
                path = self._image_path(image_id)
                if missing_image(path, bad):
                    continue
                rec = bad.guard("images with a bad image file or annotation skipped", self._record, path,
                                len(records), parsed[image_id], label_of, skipped)
                if rec is not None:
                    records.append(rec)
            splits[split] = np.arange(start, len(records))
        skipped.update(bad.counts)
        notes = [] if self.class_names else near_duplicates(Counter(
            o["name"] for p in parsed.values() if p for o in p["objects"]))  # names read from the files: typos
        return DetectionIndex(names, records, splits, None, skipped, bad.lines, say(notes))

    def _image_path(self, image_id: str) -> Path:
        for ext in EXTENSIONS:
            if (self.images / f"{image_id}{ext}").is_file():
                return self.images / f"{image_id}{ext}"
        return self.images / f"{image_id}.jpg"

    def _record(self, path: Path, index: int, ann: dict, label_of: dict, skipped: Counter) -> Record:
        if ann["size"]:
            w, h = ann["size"]
            check_size(path, w, h, ann["file"].name)
        else:
            w, h = image_size(path)
        objects = ann["objects"]
        for o in objects:
            if o["name"] not in label_of:
                raise DataError(f"{ann['file']}: unknown class '{o['name']}' (known: {', '.join(label_of)})")
        xyxy = np.asarray([o["box"] for o in objects], dtype=np.float32).reshape(-1, 4)
        boxes, keep = sanitize_boxes(xyxy, w, h, str(ann["file"]), skipped)
        kept = [o for o, k in zip(objects, keep) if k]
        return Record(path, index, w, h, boxes[keep], [label_of[o["name"]] for o in kept],
                      difficult=np.asarray([o["difficult"] for o in kept], dtype=bool))


def parse_xml(path: Path) -> dict:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise DataError(f"{path}: VOC annotation file not found") from None
    except ET.ParseError as exc:
        raise DataError(f"{path}: not valid XML ({exc})") from None
    size = root.find("size")
    wh = None
    if size is not None and size.findtext("width") and size.findtext("height"):
        try:
            wh = (int(float(size.findtext("width"))), int(float(size.findtext("height"))))
        except ValueError:
            raise DataError(f"{path}: <size> needs numeric width and height") from None
        wh = wh if wh[0] > 0 and wh[1] > 0 else None
    objects = []
    for obj in root.iter("object"):
        bb = obj.find("bndbox")
        if bb is None:
            raise DataError(f"{path}: an <object> has no <bndbox>")
        try:
            xmin, ymin, xmax, ymax = [float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
        except (TypeError, ValueError):
            raise DataError(f"{path}: <bndbox> needs numeric xmin, ymin, xmax, ymax") from None
        if not (obj.findtext("name") or "").strip():
            raise DataError(f"{path}: an <object> has no <name> (it would become a class named '')")
        objects.append({"name": (obj.findtext("name") or "").strip(), "box": [xmin - 1, ymin - 1, xmax, ymax],
                        "difficult": (obj.findtext("difficult") or "0").strip() == "1"})
    return {"file": path, "size": wh, "objects": objects}


def write_xml(path: Path, filename: str, width: int, height: int, objects: list[tuple[str, list[float], bool]]) -> None:
    """Write one VOC annotation; ``objects`` are (class name, [x1, y1, x2, y2] 0-based xyxy, difficult)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for key, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, key).text = str(value)
    for name, (x1, y1, x2, y2), difficult in objects:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "difficult").text = "1" if difficult else "0"
        bb = ET.SubElement(obj, "bndbox")
        for key, value in (("xmin", x1 + 1), ("ymin", y1 + 1), ("xmax", x2), ("ymax", y2)):
            ET.SubElement(bb, key).text = f"{value:g}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path)
