"""Image + mask PNG folders: ``root/images/<name>.<ext>`` with ``root/masks/<name>.png``, optionally under
``train/``, ``val/``, ``test/``. Masks hold class indices (grayscale or palette PNG; 255 = ignore); class names come
from the config or from ``root/classes.txt`` (one per line, index 0 first)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from visiontrain.data.formats.image_folder import check_split_names
from visiontrain.data.formats.segmentation_samples import SegmentationSamples
from visiontrain.errors import DataError
from visiontrain.imaging import is_image_file

SPLIT_NAMES = ("train", "val", "test")


def read_mask(path: str | Path) -> np.ndarray:
    """HxW class indices. A palette PNG's pixel values are its palette indices (VOC style), not its colours."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            mode = img.mode
            arr = np.asarray(img.convert("RGB") if mode in ("RGBA", "LA", "CMYK", "YCbCr") else img)
    except FileNotFoundError:
        raise DataError(f"{path}: mask file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        reason = "empty file" if path.stat().st_size == 0 else str(exc).splitlines()[0] or type(exc).__name__
        raise DataError(f"{path}: unreadable mask ({reason})") from None
    if arr.ndim == 3:
        if not (np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])):
            raise DataError(f"{path}: RGB colour mask ({mode}); expected class indices: a grayscale or palette PNG "
                            "whose pixel values are class ids")
        arr = arr[..., 0]
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    return arr.astype(np.uint8) if arr.max(initial=0) < 256 else arr.astype(np.int64)


def remap(mask: np.ndarray, values: dict[int, int]) -> np.ndarray:
    """Pixel values → class ids (values not named stay as they are)."""
    out = mask.copy()
    for src, dst in values.items():
        out[mask == src] = dst
    return out


def read_class_names(root: Path, class_names: Sequence[str] | None) -> list[str]:
    if class_names:
        return list(class_names)
    listing = root / "classes.txt"
    if not listing.is_file():
        raise DataError(f"{root}: no classes.txt (one class name per line, index 0 first); "
                        "or set data.source.class_names")
    names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    if not names:
        raise DataError(f"{listing}: empty class list")
    return names


class MaskFolderReader:
    def __init__(self, root: str, class_names: list[str] | None = None, images_dir: str = "images",
                 masks_dir: str = "masks", mask_values: dict[int, int] | None = None) -> None:
        self.root = Path(root).expanduser()
        self.class_names, self.images_dir, self.masks_dir = class_names, images_dir, masks_dir
        # pixel value → class id, applied to every mask as read: {255: 1} for binary masks saved as 0/255
        self.mask_values = {int(k): int(v) for k, v in mask_values.items()} if mask_values else None

    def prepare(self) -> None:
        """Nothing to fetch: the user's folders are read as they are."""

    def load_index(self) -> SegmentationSamples:
        if not self.root.is_dir():
            raise DataError(f"{self.root}: mask folder root does not exist (set data.source.root)")
        names = read_class_names(self.root, self.class_names)
        check_split_names(self.root)
        split_roots = [self.root / s for s in SPLIT_NAMES if (self.root / s / self.images_dir).is_dir()]
        images: list[Path] = []
        masks: list[Path] = []
        problems: list[str] = []
        splits: dict[str, np.ndarray] = {}
        for folder in split_roots or [self.root]:
            start = len(images)
            self._scan(folder, images, masks, problems)
            if split_roots:
                splits[folder.name] = np.arange(start, len(images))
        if not images:
            where = ", ".join(str(f / self.images_dir) for f in split_roots or [self.root])
            raise DataError(f"{where}: no image with a mask found ({len(problems)} images without masks)")
        if split_roots and "train" not in splits:
            raise DataError(f"{self.root}: split folders {list(splits)} but no train/{self.images_dir}")
        values = self.mask_values
        load = (lambda i: remap(read_mask(masks[i]), values)) if values else (lambda i: read_mask(masks[i]))
        return SegmentationSamples(names, images, load, [str(m) for m in masks], splits, problems)

    def _scan(self, folder: Path, images: list, masks: list, problems: list) -> None:
        image_dir, mask_dir = folder / self.images_dir, folder / self.masks_dir
        if not image_dir.is_dir():
            raise DataError(f"{image_dir}: image folder not found (expected {folder}/{self.images_dir}/ and "
                            f"{folder}/{self.masks_dir}/)")
        if not mask_dir.is_dir():
            raise DataError(f"{mask_dir}: mask folder not found (one <name>.png per image in {image_dir})")
        mask_files = {p.stem: p for p in mask_dir.iterdir() if p.is_file() and is_image_file(p)}
        if not mask_files:
            raise DataError(f"{mask_dir}: mask folder is empty")
        for path in sorted(p for p in image_dir.iterdir() if p.is_file() and is_image_file(p)):
            if path.stem in mask_files:
                images.append(path)
                masks.append(mask_files[path.stem])
            else:
                problems.append(f"{path}: no mask {mask_dir / (path.stem + '.png')}")
