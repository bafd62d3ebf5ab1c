"""Made images to the run directory (PNG) and to the image-capable loggers."""

from __future__ import annotations

from pathlib import Path

import torch

from visiontrain.imaging import to_uint8
from visiontrain.results.figures import log_image_array


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
