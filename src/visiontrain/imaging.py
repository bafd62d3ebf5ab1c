"""The one imaging layer: reading an image file as an RGB uint8 array (errors name the file), used by training,
evaluation and prediction alike, and float images back to uint8 for every picture a run writes or logs.

EXIF orientation is applied (``ImageOps.exif_transpose``), so pixels, sizes and therefore annotations are all in the
orientation an image viewer shows: annotation tools label what they display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visiontrain.errors import DataError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _unreadable(path: Path, exc: BaseException) -> DataError:
    """One line naming the file and what is wrong with it."""
    from PIL import UnidentifiedImageError

    if isinstance(exc, FileNotFoundError):
        return DataError(f"{path}: image file not found")
    try:
        if path.stat().st_size == 0:
            return DataError(f"{path}: unreadable image (empty file, 0 bytes)")
    except OSError:
        pass
    if isinstance(exc, UnidentifiedImageError):
        return DataError(f"{path}: unreadable image (not in an image format PIL can identify)")
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(f"{path}: unreadable image ({reason})")


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) as ``read_rgb`` returns the image (EXIF orientation applied), from the header only."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (FileNotFoundError, UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    return (h, w) if orientation in _ROTATED else (w, h)


def read_rgb(path: str | Path) -> np.ndarray:
    """HxWx3 uint8. EXIF orientation is applied; grayscale, palette, RGBA and 16-bit images become 8-bit RGB
    (alpha is dropped, 16-bit values are scaled by 255/65535)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in _SIXTEEN_BIT or img.mode == "I":
                arr = np.asarray(img, dtype=np.float32)
                # "I" is also what some tools write for 8-bit data: only values above 255 mean 16-bit there
                full = 65535.0 if img.mode in _SIXTEEN_BIT or arr.max(initial=0) > 255 else 255.0
                img = Image.fromarray((arr * (255.0 / full)).round().clip(0, 255).astype(np.uint8))
            return np.asarray(img.convert("RGB"))
    except (FileNotFoundError, UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def to_uint8(images) -> np.ndarray:
    """Float images in [0, 1] as a tensor, CxHxW or NxCxHxW (at most the first three channels) → HxWxC or
    NxHxWxC uint8, rounded to the nearest value."""
    x = images.detach()[..., :3, :, :].float().clamp(0, 1).mul(255).round().byte()
    return x.movedim(-3, -1).cpu().numpy()
