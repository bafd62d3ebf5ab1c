"""Predicted and true masks for the loggers: W&B native mask overlays (toggle classes in the UI) and a table of the
samples; a labelled colour panel (image | truth | prediction per row, class legend) for the others and the run dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from visiontrain.imaging import to_uint8


def colours(n: int) -> np.ndarray:
    import colorsys

    table = np.zeros((256, 3), dtype=np.uint8)
    for i in range(1, n):
        table[i] = [int(255 * c) for c in colorsys.hsv_to_rgb((i - 1) / max(n - 1, 1), 0.9, 0.95)]
    table[255] = 255  # ignore: white
    return table




def panel(images: np.ndarray, truth: np.ndarray, preds: np.ndarray, n_classes: int, alpha: float = 0.55) -> np.ndarray:
    """Rows of image | truth | prediction, each class blended in its colour (background and ignore left as is)."""
    from torchvision.utils import draw_segmentation_masks

    table = colours(n_classes)
    classes = torch.arange(1, n_classes)[:, None, None]
    palette = [tuple(int(v) for v in table[c]) for c in range(1, n_classes)]
    rows = []
    for img, t, p in zip(images, truth, preds):
        pixels = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        blends = [draw_segmentation_masks(pixels, torch.from_numpy(m.astype(np.int64))[None] == classes, alpha,
                                          palette).permute(1, 2, 0).numpy() for m in (t, p)]
        rows.append(np.concatenate([img, *blends], axis=1))
    return np.concatenate(rows, axis=0)


def panel_figure(picture: np.ndarray, class_names: list[str], ignore_index: int):
    """The panel with its column titles and a legend of the class colours."""
    from visiontrain.results.figures import picture_with_legend

    table = colours(len(class_names))
    legend = [(f"{class_names[0]} (not coloured)", None), *((n, table[i]) for i, n in enumerate(class_names) if i)]
    if ignore_index >= len(class_names):
        legend.append((f"ignore ({ignore_index}): not coloured", None))
    fig, ax = picture_with_legend(picture, legend)
    w = picture.shape[1]
    ax.set_xticks([w / 6, w / 2, 5 * w / 6], ["image", "truth", "prediction"], fontsize=9)
    ax.xaxis.tick_top()
    return fig


def log_mask_overlays(trainer, key: str, images: torch.Tensor, truth: torch.Tensor, preds: torch.Tensor,
                      class_names: list[str], ignore_index: int) -> None:
    """``key``: ``<stage>/masks``. W&B: native mask overlays and a table of the samples; the other image loggers
    and the run dir (``<stage>_masks.png``): the labelled panel."""
    if not trainer.is_global_zero:
        return
    from visiontrain.results.figures import save_and_log
    from visiontrain.results.publish import log_table, wandb_loggers

    imgs = to_uint8(images)
    t = truth.detach().cpu().numpy().astype(np.uint8)
    p = preds.detach().cpu().numpy().astype(np.uint8)
    labels = {i: name for i, name in enumerate(class_names)} | {ignore_index: "ignore"}
    loggers = wandb_loggers(trainer)
    if loggers:
        masks = [{"prediction": {"mask_data": pi, "class_labels": labels},
                  "ground_truth": {"mask_data": ti, "class_labels": labels}} for pi, ti in zip(p, t)]
        for lg in loggers:
            lg.log_image(key=key, images=list(imgs), step=trainer.global_step, masks=masks)

        def rows():
            import wandb

            return [[i, wandb.Image(im, masks=m), ", ".join(class_names[c] for c in np.unique(ti) if c < len(class_names)),
                     ", ".join(class_names[c] for c in np.unique(pi) if c < len(class_names))]
                    for i, (im, m, ti, pi) in enumerate(zip(imgs, masks, t, p))]

        log_table(trainer, f"{key.split('/', 1)[0]}/samples", ["sample", "image", "true classes",
                                                              "predicted classes"],
                  rows)
    run_dir = getattr(trainer, "default_root_dir", None)
    fig = panel_figure(panel(imgs, t, p, len(class_names)), class_names, ignore_index)
    save_and_log(trainer, key, fig, Path(run_dir) / f"{key.replace('/', '_')}.png" if run_dir else None, wandb=False)
