"""Made images to the run directory (PNG) and to the image-capable loggers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from visiontrain.utils.figures import log_image_array


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """3xHxW in [0, 1] → HxWx3 uint8."""
    return (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)


def save_and_log(trainer, images: dict[str, torch.Tensor], folder: str, prefix: str = "", suffix: str = "") -> list[Path]:
    from PIL import Image

    out_dir = Path(trainer.default_root_dir) / folder
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in images.items():
        array = to_uint8(image)
        path = out_dir / f"{prefix}{name}{suffix}.png"
        Image.fromarray(array).save(path)
        paths.append(path)
        log_image_array(trainer, f"{'final' if prefix == 'final_' else 'snapshot'}/{name}", array)
    return paths
