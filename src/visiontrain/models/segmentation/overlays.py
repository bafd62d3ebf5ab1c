"""Predicted and true masks for the loggers: W&B native mask overlays (toggle classes in the UI), a colour panel
(image | truth | prediction per row) for the others and for the run dir."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch


def colours(n: int) -> np.ndarray:
    import colorsys

    table = np.zeros((256, 3), dtype=np.uint8)
    for i in range(1, n):
        table[i] = [int(255 * c) for c in colorsys.hsv_to_rgb((i - 1) / max(n - 1, 1), 0.9, 0.95)]
    table[255] = 255  # ignore: white
    return table


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """NxCxHxW float [0, 1] → NxHxWx3 uint8 (the first three channels)."""
    return (images[:, :3].detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)


def panel(images: np.ndarray, truth: np.ndarray, preds: np.ndarray, n_classes: int, alpha: float = 0.55) -> np.ndarray:
    table = colours(n_classes)
    rows = []
    for img, t, p in zip(images, truth, preds):
        blend = [img] + [np.where(m[..., None] > 0, (1 - alpha) * img + alpha * table[m], img).astype(np.uint8)
                         for m in (t, p)]
        rows.append(np.concatenate(blend, axis=1))
    return np.concatenate(rows, axis=0)


def log_mask_overlays(trainer, key: str, images: torch.Tensor, truth: torch.Tensor, preds: torch.Tensor,
                      class_names: list[str], ignore_index: int, save: bool = False) -> None:
    if not trainer.is_global_zero:
        return
    from pytorch_lightning.loggers import WandbLogger

    from visiontrain.utils.figures import log_image_array

    imgs = to_uint8(images)
    t = truth.detach().cpu().numpy().astype(np.uint8)
    p = preds.detach().cpu().numpy().astype(np.uint8)
    labels = {i: name for i, name in enumerate(class_names)} | {ignore_index: "ignore"}
    for lg in trainer.loggers:
        if isinstance(lg, WandbLogger):
            masks = [{"prediction": {"mask_data": pi, "class_labels": labels},
                      "ground_truth": {"mask_data": ti, "class_labels": labels}} for pi, ti in zip(p, t)]
            lg.log_image(key=key, images=list(imgs), step=trainer.global_step, masks=masks)
    picture = panel(imgs, t, p, len(class_names))
    # W&B already has the native overlays; the panel goes to TensorBoard / MLflow
    others = SimpleNamespace(loggers=[lg for lg in trainer.loggers if not isinstance(lg, WandbLogger)],
                             global_step=trainer.global_step)
    log_image_array(others, key, picture)
    if save and trainer.default_root_dir:
        from PIL import Image

        Image.fromarray(picture).save(Path(trainer.default_root_dir) / f"{key.replace('/', '_')}.png")
