"""A generated corpus of bad and unusual samples, written into a test's tmp_path, and small datasets in every
on-disk format with one case planted among good samples.

Images: broken ones (truncated JPEG, zero-byte PNG, a text file named .jpg) and valid-but-unusual ones (grayscale,
RGBA, 16-bit, palette, a non-ASCII name, an EXIF-rotated JPEG), each with the RGB array a reader must return.
Labels: per format, one broken annotation per case (wrong column count, NaN, negative width, a box outside the
image, an unknown class); masks of the wrong size; empty splits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 48, 32  # every generated image (as displayed, after EXIF orientation)
CLASSES = ["cat", "dog"]
BOX = (12, 8, 36, 24)  # x1, y1, x2, y2 of the object in every good image
NON_ASCII = "ñandú_日本"  # a non-ASCII stem (VOC image-set files cannot hold spaces)

BROKEN_IMAGES = ("truncated.jpg", "zero.png", "text.jpg")
UNUSUAL_IMAGES = ("gray.png", "rgba.png", "gray16.png", "palette.png", f"{NON_ASCII}.png", "exif_rotated.jpg")
LABEL_CASES = ("wrong_columns", "nan", "negative", "outside", "unknown_class")


def pixels(seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    """HxWx3 uint8: a flat background with a bright block at BOX (JPEG keeps its colour)."""
    rng = np.random.default_rng(seed)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = rng.integers(20, 90, size=3, dtype=np.uint8)
    x1, y1, x2, y2 = BOX
    image[y1:y2, x1:x2] = (230, 40, 40)
    return image


def write_good(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels(seed)).save(path)
    return path


# --- broken images: each must give one line naming the file, or a counted skip ---

def write_broken(path: Path) -> Path:
    """By name: truncated.jpg (half a JPEG: its header reads, its pixels do not), zero.png, text.jpg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.startswith("truncated"):
        noise = np.random.default_rng(7).integers(0, 256, (H, W, 3), dtype=np.uint8)  # big scan data after the header
        Image.fromarray(noise).save(path, quality=100)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
    elif path.name.startswith("zero"):
        path.write_bytes(b"")
    elif path.name.startswith("text"):
        path.write_text("this is a text file, not a JPEG\n")
    else:
        raise ValueError(path.name)
    return path


# --- valid but unusual images: each must load as the expected RGB array ---

def write_unusual(path: Path) -> np.ndarray:
    """Write the image ``path.name`` names; return the HxWx3 uint8 array a reader must give back (JPEG: ±tolerance)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = pixels(3)
    name = path.name
    if name.startswith("gray16"):
        gray = rgb[..., 0].astype(np.uint16) * 257  # 8-bit values stretched to 16 bits: exact both ways
        Image.fromarray(gray).save(path)  # Pillow writes a 16-bit grayscale PNG ("I;16")
        return np.repeat(rgb[..., :1], 3, axis=2)
    if name.startswith("gray"):
        Image.fromarray(rgb[..., 0]).save(path)
        return np.repeat(rgb[..., :1], 3, axis=2)
    if name.startswith("rgba"):
        alpha = np.full((H, W, 1), 100, np.uint8)  # alpha is dropped, not composited
        Image.fromarray(np.concatenate([rgb, alpha], axis=2)).save(path)
        return rgb
    if name.startswith("palette"):
        colours = np.unique(rgb.reshape(-1, 3), axis=0)
        index = np.array([np.flatnonzero((colours == p).all(axis=1))[0] for p in rgb.reshape(-1, 3)], np.uint8)
        img = Image.fromarray(index.reshape(H, W), mode="P")
        img.putpalette(colours.reshape(-1).tolist())
        img.save(path)
        return rgb
    if name.startswith("exif_rotated"):
        write_exif_rotated(path, rgb)
        return rgb
    Image.fromarray(rgb).save(path)  # e.g. the non-ASCII name
    return rgb


def write_exif_rotated(path: Path, displayed: np.ndarray, orientation: int = 6) -> None:
    """Store ``displayed`` turned so that a viewer applying EXIF ``orientation`` 6 (rotate 90° clockwise) shows it
    as it is: the stored pixels are H wide and W tall."""
    stored = Image.fromarray(displayed).transpose(Image.Transpose.ROTATE_90)  # undoes exif_transpose's ROTATE_270
    exif = Image.Exif()
    exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    stored.save(path, exif=exif, quality=95)


def write_image(path: Path, seed: int = 0) -> np.ndarray | None:
    """Good, broken or unusual by file name; returns the expected RGB array (None for broken images)."""
    if path.name in BROKEN_IMAGES:
        write_broken(path)
        return None
    if path.name in UNUSUAL_IMAGES:
        return write_unusual(path)
    write_good(path, seed)
    return pixels(seed)


# --- labels: a good annotation and each broken one, per format ---

def yolo_line(case: str | None) -> str:
    x1, y1, x2, y2 = BOX
    good = [0, (x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H]
    bad = {None: good, "wrong_columns": good[:4], "nan": [0, "nan", *good[2:]],
           "negative": [0, good[1], good[2], -good[3], good[4]], "outside": [0, 1.6, good[2], good[3], good[4]],
           "unknown_class": [7, *good[1:]]}[case]
    return " ".join(str(v) for v in bad) + "\n"


def coco_bbox(case: str | None) -> tuple[list, int]:
    """(bbox, category id) with the good categories 1 (cat) and 3 (dog)."""
    x1, y1, x2, y2 = BOX
    good = [x1, y1, x2 - x1, y2 - y1]
    return {None: (good, 1), "wrong_columns": (good[:3], 1), "nan": ([float("nan"), *good[1:]], 1),
            "negative": ([x1, y1, -(x2 - x1), y2 - y1], 1), "outside": ([W + 10, y1, 10, 10], 1),
            "unknown_class": (good, 99)}[case]


def voc_object(case: str | None) -> str:
    x1, y1, x2, y2 = BOX
    coords = {"xmin": x1 + 1, "ymin": y1 + 1, "xmax": x2, "ymax": y2}
    name = "cat"
    if case == "wrong_columns":
        del coords["ymax"]
    elif case == "nan":
        coords["xmin"] = "nan"
    elif case == "negative":
        coords["xmin"], coords["xmax"] = x2, x1 + 1
    elif case == "outside":
        coords["xmin"], coords["xmax"] = W + 5, W + 20
    elif case == "unknown_class":
        name = "zebra"
    box = "".join(f"<{k}>{v}</{k}>" for k, v in coords.items())
    return f"<object><name>{name}</name><difficult>0</difficult><bndbox>{box}</bndbox></object>"


# --- datasets in each format: good samples plus the planted ones ---

def image_folder(root: Path, planted: dict[str, str] | None = None, per_class: int = 6) -> Path:
    """root/<class>/good<k>.png, plus ``planted`` file name → class."""
    for c, name in enumerate(CLASSES):
        for k in range(per_class):
            write_good(root / name / f"good{k}.png", seed=10 * c + k)
    for file, cls in (planted or {}).items():
        write_image(root / cls / file)
    return root


def yolo(root: Path, planted_images: tuple[str, ...] = (), label_case: str | None = None, good: int = 6,
         empty_val: bool = False) -> Path:
    """images/train + labels/train (+ images/val); ``label_case`` breaks the label of ``bad.png``."""
    val = "images/val" if empty_val else None
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(
        "path: .\ntrain: images/train\n" + (f"val: {val}\n" if val else "") + f"names: {CLASSES}\n", "utf-8")
    if empty_val:
        (root / "images" / "val").mkdir(parents=True)
    labels = root / "labels" / "train"
    labels.mkdir(parents=True, exist_ok=True)
    for k in range(good):
        write_good(root / "images" / "train" / f"good{k}.png", seed=k)
        (labels / f"good{k}.txt").write_text(yolo_line(None))
    for file in planted_images:
        write_image(root / "images" / "train" / file)
        (labels / f"{Path(file).stem}.txt").write_text(yolo_line(None), "utf-8")
    if label_case:
        write_good(root / "images" / "train" / "bad.png", seed=99)
        (labels / "bad.txt").write_text(yolo_line(None) + yolo_line(label_case))
    return root / "data.yaml"


def coco(root: Path, planted_images: tuple[str, ...] = (), label_case: str | None = None, good: int = 6,
         sizes: dict[str, tuple[int, int]] | None = None) -> Path:
    """images/*.png + ann.json; ``sizes`` overrides the width, height the JSON states for a file."""
    images, annotations = [], []
    files = [f"good{k}.png" for k in range(good)] + list(planted_images) + (["bad.png"] if label_case else [])
    for i, file in enumerate(files, start=1):
        write_image(root / "images" / file, seed=i)
        w, h = (sizes or {}).get(file, (W, H))
        images.append({"id": i, "file_name": file, "width": w, "height": h})
        bbox, cat = coco_bbox(label_case if file == "bad.png" else None)
        x1, y1, x2, y2 = BOX
        annotations.append({"id": i, "image_id": i, "category_id": cat, "bbox": bbox, "area": 1.0, "iscrowd": 0,
                            "segmentation": [[x1, y1, x2, y1, x2, y2, x1, y2]]})
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]}
    root.mkdir(parents=True, exist_ok=True)
    (root / "ann.json").write_text(json.dumps(data), "utf-8")  # NaN is written as the bare token NaN, as Python does
    return root / "ann.json"


def voc(root: Path, planted_images: tuple[str, ...] = (), label_case: str | None = None, good: int = 6) -> Path:
    """JPEGImages/, Annotations/, ImageSets/Main/train.txt."""
    stems = [f"good{k}" for k in range(good)]
    for k, stem in enumerate(stems):
        write_good(root / "JPEGImages" / f"{stem}.png", seed=k)
    for file in planted_images:
        write_image(root / "JPEGImages" / file)
        stems.append(Path(file).stem)
    if label_case:
        write_good(root / "JPEGImages" / "bad.png", seed=99)
        stems.append("bad")
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    for stem in stems:
        obj = voc_object(label_case if stem == "bad" else None)
        (root / "Annotations" / f"{stem}.xml").write_text(
            f"<annotation><size><width>{W}</width><height>{H}</height><depth>3</depth></size>{obj}</annotation>",
            "utf-8")
    (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("".join(f"{s}\n" for s in stems), "utf-8")
    return root


def instance_mask(size: tuple[int, int] = (W, H)) -> np.ndarray:
    """One object (id 1) at BOX, as a HxW mask of ``size`` = (width, height)."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    x1, y1, x2, y2 = BOX
    mask[y1:y2, x1:x2] = 1
    return mask


def mask_pairs(root: Path, planted_images: tuple[str, ...] = (), wrong_size_mask: bool = False, good: int = 6,
               instance_layout: bool = False) -> Path:
    """images/ + masks/ (class-index PNGs; classes.txt) or, with ``instance_layout``, PNGImages/ + PedMasks/<stem>_mask.png."""
    images, masks, suffix = ("PNGImages", "PedMasks", "_mask") if instance_layout else ("images", "masks", "")
    files = [f"good{k}.png" for k in range(good)] + list(planted_images) + (["bad.png"] if wrong_size_mask else [])
    (root / masks).mkdir(parents=True, exist_ok=True)
    for k, file in enumerate(files):
        write_image(root / images / file, seed=k)
        size = (W + 8, H) if file == "bad.png" else (W, H)
        Image.fromarray(instance_mask(size)).save(root / masks / f"{Path(file).stem}{suffix}.png")
    (root / "classes.txt").write_text("background\nblock\n")
    return root


def image_files(root: Path, planted_images: tuple[str, ...] = (), good: int = 6) -> Path:
    """A flat folder of images (restoration, style)."""
    for k in range(good):
        write_good(root / f"good{k}.png", seed=k)
    for file in planted_images:
        write_image(root / file)
    return root


# --- every reader and datamodule, built on the corpus ---

IMAGE_READERS = ("classification", "localization", "yolo", "coco", "voc", "instance_masks", "mask_folder",
                 "coco_semantic", "yolo_pipeline", "restoration", "style")
LABEL_READERS = ("yolo", "coco", "voc", "localization", "yolo_pipeline")


def datamodule(kind: str, root: Path, policy: str = "error", planted: tuple[str, ...] = (),
               label_case: str | None = None, workers: int = 0, **files):
    """The datamodule users get for ``kind``, reading a corpus dataset under ``root`` with ``planted`` images (and,
    for the box formats, the broken label ``label_case``). ``files`` go to the corpus writer."""
    from visiontrain.data.classification import ClassificationDataModule
    from visiontrain.data.detection import DetectionDataModule
    from visiontrain.data.formats.coco import CocoReader, CocoSplit
    from visiontrain.data.formats.coco_semantic import CocoSemanticReader
    from visiontrain.data.formats.image_files import ImageFiles
    from visiontrain.data.formats.image_folder import ImageFolderReader
    from visiontrain.data.formats.instance_masks import InstanceMaskReader
    from visiontrain.data.formats.mask_folder import MaskFolderReader
    from visiontrain.data.formats.voc import VocReader
    from visiontrain.data.formats.yolo import YoloReader
    from visiontrain.data.localization import LocalizationDataModule
    from visiontrain.data.restoration import RestorationDataModule
    from visiontrain.data.segmentation import SegmentationDataModule
    from visiontrain.data.style import StyleDataModule
    from visiontrain.data.yolo_data import YoloDataModule

    loader = {"num_workers": workers, "val_fraction": 0.2, "test_fraction": 0.2, "on_bad_sample": policy}
    if kind == "classification":
        planted_as = {f: "cat" for f in planted}
        return ClassificationDataModule(ImageFolderReader(str(image_folder(root, planted_as, **files))),
                                        batch_size=4, **loader)
    if kind in ("yolo", "localization", "yolo_pipeline"):
        reader = YoloReader(str(yolo(root, planted, label_case, **files)))
        if kind == "localization":
            return LocalizationDataModule(reader, batch_size=4, **loader)
        if kind == "yolo_pipeline":
            return YoloDataModule(reader, img_size=64, mosaic=0.0, batch_size=2, **loader)
        return DetectionDataModule(reader, batch_size=2, **loader)
    if kind == "coco":
        coco(root, planted, label_case, **files)
        return DetectionDataModule(CocoReader(str(root), CocoSplit("ann.json", "images")), batch_size=2, **loader)
    if kind == "voc":
        voc(root, planted, label_case, **files)
        reader = VocReader(str(root), val=None, images="JPEGImages", class_names=CLASSES)
        return DetectionDataModule(reader, batch_size=2, **loader)
    if kind == "instance_masks":
        mask_pairs(root, planted, instance_layout=True, **files)
        return DetectionDataModule(InstanceMaskReader(str(root)), with_masks=True, batch_size=2, **loader)
    if kind == "mask_folder":
        mask_pairs(root, planted, **files)
        return SegmentationDataModule(MaskFolderReader(str(root)), batch_size=2, **loader)
    if kind == "coco_semantic":
        coco(root, planted, label_case, **files)
        return SegmentationDataModule(CocoSemanticReader(str(root / "ann.json"), str(root / "images")),
                                      batch_size=2, **loader)
    if kind == "restoration":
        return RestorationDataModule(ImageFiles(str(image_files(root, planted, **files))), crop_size=16,
                                     train_crops=8, eval_crops_per_image=1, batch_size=2, **loader)
    if kind == "style":
        image_files(root, planted, **files)
        return StyleDataModule(content=str(root), style="generated:painting", image_size=W,
                               on_bad_sample=policy)
    raise ValueError(kind)


def every_batch(dm) -> int:
    """Set up like training does and draw every batch of every split; returns the number of samples seen."""
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader

    dm.setup("fit")
    seen = 0
    for name in ("train_dataloader", "val_dataloader", "test_dataloader"):
        if getattr(type(dm), name) is getattr(pl.LightningDataModule, name):  # not defined (style has no val)
            continue
        loader = getattr(dm, name)()
        # the same dataset, workers and collate, but every sample (training drops the last partial batch)
        loader = DataLoader(loader.dataset, batch_size=1, num_workers=loader.num_workers, collate_fn=loader.collate_fn)
        for batch in loader:
            first = batch[0] if isinstance(batch, (list, tuple)) else (
                next(iter(batch.values())) if isinstance(batch, dict) else batch)
            seen += len(first)
    return seen


def loaded_images(dm) -> dict[str, np.ndarray]:
    """File stem → HxWx3 uint8 image as the datamodule's reader decodes it (after ``setup``)."""
    if hasattr(dm, "images") and hasattr(dm.images, "items"):  # classification
        return {Path(p).stem: dm.images.load(i) for i, p in enumerate(dm.images.items)}
    if getattr(dm, "index", None) is not None:  # detection, localization, YOLO
        return {r.path.stem: dm.index.load(i)["image"] for i, r in enumerate(dm.index.records)}
    if getattr(dm, "samples", None) is not None:  # segmentation
        return {Path(p).stem: dm.samples.load(i)[0] for i, p in enumerate(dm.samples.images)}
    if getattr(dm, "items", None) is not None:  # restoration
        return {Path(name).stem: load() for name, load in dm.items}
    if getattr(dm, "pairs", None) is not None:  # style: content images at image_size (48 keeps them as they are)
        return {p.name.split("__")[0]: (p.content.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                for p in dm.pairs}
    raise TypeError(type(dm).__name__)


class FakeTrainer:
    """What ``BadSamples.report`` reads from a Lightning Trainer."""

    def __init__(self, run_dir: Path) -> None:
        self.default_root_dir, self.is_global_zero = str(run_dir), True
