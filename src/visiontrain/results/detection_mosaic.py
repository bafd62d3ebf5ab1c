"""Labelled validation mosaics (Ultralytics' val_batch_labels / val_batch_pred): the first validation images with
their true boxes, and with the predicted boxes and scores, in one colour per class, titled and with a class legend.
Boxes and captions are drawn by torchvision's ``draw_bounding_boxes``; the grid, title and legend by matplotlib."""

from __future__ import annotations

from collections.abc import Sequence

import torch

MIN_SIDE = 256


def class_colours(n: int) -> list[tuple[int, int, int]]:
    """One RGB colour per class (tab10, then tab20 for more classes), the same in boxes and legend."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [tuple(int(255 * c) for c in cmap(i % cmap.N)[:3]) for i in range(n)]


def _font() -> str:
    from matplotlib import font_manager

    return font_manager.findfont("DejaVu Sans")  # ships with matplotlib: captions at a readable size, offline


def draw(image: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str],
         scores: torch.Tensor | None = None) -> torch.Tensor:
    """CxHxW float [0, 1] → 3xHxW uint8 with the boxes in their class colours and captioned."""
    from torchvision.utils import draw_bounding_boxes

    from visiontrain.imaging import to_uint8

    pixels = torch.from_numpy(to_uint8(image)).permute(2, 0, 1)
    zoom = max(1, MIN_SIDE // max(pixels.shape[1:]))  # small images enlarged first: captions stay readable
    if zoom > 1:
        pixels = pixels.repeat_interleave(zoom, 1).repeat_interleave(zoom, 2)
    if not len(boxes):
        return pixels
    colours = class_colours(len(class_names))
    names = [class_names[int(c)] if 0 <= int(c) < len(class_names) else str(int(c)) for c in labels]
    captions = names if scores is None else [f"{n} {float(s):.2f}" for n, s in zip(names, scores)]
    size = max(9, min(14, pixels.shape[-1] // 24))
    return draw_bounding_boxes(pixels, boxes.detach().float().cpu() * zoom, captions,
                               colors=[colours[int(c) % len(colours)] for c in labels], width=2, font=_font(),
                               font_size=size)


def grid(pictures: Sequence[torch.Tensor]) -> torch.Tensor:
    """Images of any sizes, padded to the largest, in a near-square grid."""
    from torchvision.utils import make_grid

    h = max(p.shape[1] for p in pictures)
    w = max(p.shape[2] for p in pictures)
    padded = [torch.nn.functional.pad(p, (0, w - p.shape[2], 0, h - p.shape[1]), value=114) for p in pictures]
    columns = max(1, int(len(padded) ** 0.5 + 0.999))
    return make_grid(padded, nrow=columns, padding=4, pad_value=255)


def mosaic_figure(pictures: Sequence[torch.Tensor], class_names: Sequence[str], title: str):
    """The grid with a title saying what the boxes are and a legend of the class colours."""
    from visiontrain.results.figures import picture_with_legend

    colours = class_colours(len(class_names))
    fig, _ = picture_with_legend(grid(pictures).permute(1, 2, 0).numpy(), list(zip(class_names, colours)), title)
    return fig


def mosaics(images: Sequence[torch.Tensor], predictions: Sequence[dict], targets: Sequence[dict],
            class_names: Sequence[str], score_threshold: float) -> dict[str, object]:
    """``batch_labels`` (ground truth) and ``batch_pred`` (predictions at or above ``score_threshold``) figures.
    ``predictions`` already filtered by score."""
    truth = [draw(im, t["boxes"], t["labels"], class_names) for im, t in zip(images, targets)]
    pred = [draw(im, p["boxes"], p["labels"], class_names, p["scores"]) for im, p in zip(images, predictions)]
    return {"batch_labels": mosaic_figure(truth, class_names, "ground truth (true boxes, class name)"),
            "batch_pred": mosaic_figure(pred, class_names,
                                        f"predictions (score >= {score_threshold:g}, class name and score)")}
