"""Small datasets as labelling tools and copy scripts leave them: a valid COCO / YOLO / VOC / mask-folder /
ImageFolder dataset of a few tiny images, written from plain Python objects so that tests can damage them first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 16, 12


def image(path: Path, w: int = W, h: int = H, value: int = 60) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((h, w, 3), value, np.uint8)).save(path)
    return path


def coco_dict(n_images: int = 2, boxes_per_image: int = 1) -> dict:
    """Images 1..n (img<k>.png, WxH), one 'cat' (id 1) and one 'dog' (id 3), boxes with square polygons."""
    images = [{"id": k, "file_name": f"img{k}.png", "width": W, "height": H} for k in range(1, n_images + 1)]
    anns = []
    for img in images:
        for j in range(boxes_per_image):
            x, y = 2 + 3 * j, 2
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": 1 if j % 2 == 0 else 3,
                         "bbox": [x, y, 4, 5], "area": 20.0, "iscrowd": 0,
                         "segmentation": [[x, y, x + 4, y, x + 4, y + 5, x, y + 5]]})
    return {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]}


def write_coco(root: Path, data: dict, image_dir: str = "images") -> Path:
    """Writes every image the dict lists (by its plain file name) under root/image_dir, and root/ann.json."""
    for img in data.get("images", []):
        if isinstance(img, dict) and isinstance(img.get("file_name"), str):
            image(root / image_dir / Path(img["file_name"].replace("\\", "/")).name)
    root.mkdir(parents=True, exist_ok=True)
    (root / "ann.json").write_text(json.dumps(data))
    return root / "ann.json"


def coco_reader(root: Path, image_dir: str = "images"):
    from visiontrain.data.formats.coco import CocoReader, CocoSplit

    return CocoReader(str(root), CocoSplit("ann.json", image_dir))


def write_yolo(root: Path, labels: dict[str, dict[str, str]], names=("cat", "dog")) -> Path:
    """``labels``: split → image stem → label file text (None: no label file)."""
    for split, files in labels.items():
        for stem, text in files.items():
            image(root / "images" / split / f"{stem}.png")
            if text is not None:
                (root / "labels" / split).mkdir(parents=True, exist_ok=True)
                (root / "labels" / split / f"{stem}.txt").write_text(text)
    spec = {"path": str(root), "names": list(names), **{s: f"images/{s}" for s in labels}}
    (root / "data.yaml").write_text(json.dumps(spec))  # JSON is YAML
    return root / "data.yaml"


def write_image_folder(root: Path, layout: dict[str, int]) -> Path:
    """``layout``: relative class folder (e.g. 'train/cat') → number of images (0: an empty folder)."""
    for folder, n in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            image(root / folder / f"{k}.png", value=20 * k)
    return root


def write_mask_folder(root: Path, masks: list[np.ndarray], classes=("background", "object")) -> Path:
    for k, mask in enumerate(masks):
        image(root / "images" / f"{k}.png", mask.shape[1], mask.shape[0])
        (root / "masks").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask.astype(np.uint8)).save(root / "masks" / f"{k}.png")
    (root / "classes.txt").write_text("\n".join(classes) + "\n")
    return root


def write_voc(root: Path, objects: dict[str, list[tuple[str, tuple[int, int, int, int]]]]) -> Path:
    """``objects``: image id → [(class name, 1-based inclusive xmin, ymin, xmax, ymax)]."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    for stem, objs in objects.items():
        image(root / "JPEGImages" / f"{stem}.png")
        body = "".join(f"<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
                       f"<ymax>{b[3]}</ymax></bndbox></object>" for n, b in objs)
        (root / "Annotations" / f"{stem}.xml").write_text(
            f"<annotation><size><width>{W}</width><height>{H}</height></size>{body}</annotation>")
    (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("".join(f"{s}\n" for s in objects))
    return root


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of ``mask`` (as some exporters write it): column-major runs, starting with zeros."""
    flat = mask.astype(np.uint8).flatten(order="F")
    runs, value, n = [], 0, 0
    for v in flat:
        if v == value:
            n += 1
        else:
            runs.append(n)
            value, n = v, 1
    return {"size": list(mask.shape), "counts": runs + [n]}
