"""Log a matplotlib figure to every logger that shows images (W&B, TensorBoard, MLflow) and optionally to the run dir."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


def figure_to_array(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def log_image_array(trainer, key: str, image: np.ndarray) -> bool:
    """Send an HxWx3 uint8 image to the image-capable loggers; True when at least one took it."""
    from pytorch_lightning.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    sent = False
    for lg in trainer.loggers:
        if isinstance(lg, WandbLogger):
            lg.log_image(key=key, images=[image], step=trainer.global_step)
        elif isinstance(lg, TensorBoardLogger):
            lg.experiment.add_image(key, image, trainer.global_step, dataformats="HWC")
        elif isinstance(lg, MLFlowLogger):
            lg.experiment.log_image(lg.run_id, image, f"{key.replace('/', '_')}_{trainer.global_step}.png")
        else:
            continue
        sent = True
    return sent


def log_figure(trainer, key: str, make_figure: Callable, save: bool = False) -> None:
    """``make_figure`` is only called when some logger or the run dir wants the picture."""
    if not trainer.is_global_zero:
        return
    from pytorch_lightning.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    wants = any(isinstance(lg, (WandbLogger, TensorBoardLogger, MLFlowLogger)) for lg in trainer.loggers)
    if not (wants or save):
        return
    import matplotlib.pyplot as plt

    fig = make_figure()
    image = figure_to_array(fig)
    plt.close(fig)
    log_image_array(trainer, key, image)
    if save and trainer.default_root_dir:
        from PIL import Image

        path = Path(trainer.default_root_dir) / f"{key.replace('/', '_')}.png"
        Image.fromarray(image).save(path)
