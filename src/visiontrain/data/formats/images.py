"""Reading one image file as an RGB uint8 array, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visiontrain.errors import DataError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def read_rgb(path: str | Path) -> np.ndarray:
    """HxWx3 uint8. EXIF orientation is applied; grayscale, palette, RGBA and 16-bit images become 8-bit RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(img, dtype=np.float32)
                top = max(float(arr.max()), 1.0)
                img = Image.fromarray((arr * (255.0 / (65535.0 if top > 255 else 255.0))).clip(0, 255).astype(np.uint8))
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: unreadable image ({reason})") from None
