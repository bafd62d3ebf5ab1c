"""(input, output, target) image rows for the loggers and the run dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from visiontrain.imaging import to_uint8


def triplet_grid(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    rows = [np.concatenate(parts, axis=1) for parts in zip(to_uint8(inputs), to_uint8(outputs), to_uint8(targets))]
    return np.concatenate(rows, axis=0)


def log_triplets(trainer, key: str, inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor,
                 save: bool = False) -> None:
    if not trainer.is_global_zero:
        return
    from visiontrain.results.figures import log_image_array

    grid = triplet_grid(inputs, outputs, targets)
    log_image_array(trainer, key, grid)
    if save and trainer.default_root_dir:
        from PIL import Image

        Image.fromarray(grid).save(Path(trainer.default_root_dir) / f"{key.replace('/', '_')}.png")
