"""Log a matplotlib figure to every logger that shows images (W&B, TensorBoard, MLflow) and optionally to the run dir."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

_drawing_s = 0.0  # wall time this process has spent drawing figures (``drawing``)


@contextlib.contextmanager
def drawing() -> Iterator[None]:
    """Counts the wall time of a drawing in ``drawing_seconds``: the results writer keeps the figures drawn while
    training within a share of the run's time."""
    global _drawing_s
    start = time.perf_counter()
    try:
        yield
    finally:
        _drawing_s += time.perf_counter() - start


def drawing_seconds() -> float:
    return _drawing_s


def figure_to_array(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def log_image_array(trainer, key: str, image: np.ndarray, wandb: bool = True) -> bool:
    """Send an HxWx3 uint8 image to the image-capable loggers (W&B too unless ``wandb=False``: it has the native
    overlays of the same samples); True when at least one took it."""
    from pytorch_lightning.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    sent = False
    for lg in trainer.loggers:
        if isinstance(lg, WandbLogger):
            if not wandb:
                continue
            lg.log_image(key=key, images=[image], step=trainer.global_step)
        elif isinstance(lg, TensorBoardLogger):
            lg.experiment.add_image(key, image, trainer.global_step, dataformats="HWC")
        elif isinstance(lg, MLFlowLogger):
            lg.experiment.log_image(lg.run_id, image, f"{key.replace('/', '_')}_{trainer.global_step}.png")
        else:
            continue
        sent = True
    return sent


def figures_due(trainer, stage: str = "val") -> bool:
    """Whether the figures of this validation are drawn now (``ResultsWriter.figures_due``: at most once per
    ``callbacks.results.figures_every_s`` and within ``figures_max_share`` of the time while training); never during
    the sanity check; test and evaluation always draw. On ranks other than zero always True: a decision taken from
    each process's own clock must never decide whether a process joins a collective operation, and those ranks draw
    nothing anyway."""
    if getattr(trainer, "sanity_checking", False):
        return False
    if stage != "val" or not trainer.is_global_zero:
        return True
    from visiontrain.results.writer import ResultsWriter

    writer = next((cb for cb in getattr(trainer, "callbacks", []) if isinstance(cb, ResultsWriter)), None)
    return writer is None or writer.figures_due(trainer)


def log_figure(trainer, key: str, make_figure: Callable, save: bool = False) -> None:
    """``make_figure`` is only called when some logger or the run dir wants the picture."""
    if not trainer.is_global_zero:
        return
    from pytorch_lightning.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    wants = any(isinstance(lg, (WandbLogger, TensorBoardLogger, MLFlowLogger)) for lg in trainer.loggers)
    if not (wants or save):
        return
    run_dir = trainer.default_root_dir if save else None
    with drawing():
        fig = make_figure()
    save_and_log(trainer, key, fig, Path(run_dir) / f"{key.replace('/', '_')}.png" if run_dir else None)


def save_and_log(trainer, key: str, fig, path: Path | None, wandb: bool = True) -> Path | None:
    """The one way a family figure leaves: closed, sent to the image loggers under ``key``, saved at ``path``."""
    import matplotlib.pyplot as plt

    with drawing():
        image = figure_to_array(fig)
        plt.close(fig)
        log_image_array(trainer, key, image, wandb)
        if path is None:
            return None
        from PIL import Image

        Image.fromarray(image).save(path)
    return path


def picture_with_legend(picture: np.ndarray, legend: list[tuple[str, object]], title: str = ""):
    """An HxWx3 picture at about its own size with a legend beside it: ``(label, RGB 0-255 colour or None)`` items,
    None for a class left uncoloured. Returns (figure, axes) for column titles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    h, w = picture.shape[:2]
    scale = max(4.0, min(12.0, w / 70)) / w
    fig, ax = plt.subplots(figsize=(w * scale + 2.4, h * scale + 0.6), dpi=100, layout="constrained")
    ax.imshow(picture, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    handles = [Patch(facecolor="none", edgecolor="grey", label=label) if colour is None else
               Patch(facecolor=[c / 255 for c in colour], label=label) for label, colour in legend[:32]]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, title="classes", title_fontsize=8,
               frameon=False)
    return fig, ax
