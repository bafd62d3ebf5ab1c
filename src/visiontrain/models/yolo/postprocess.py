"""From the network's pre-NMS output to detections: score threshold (every class above it, or each anchor's best
class only), per-class NMS (torchvision's batched_nms), and boxes mapped from the letterboxed input back to the
original image."""

from __future__ import annotations

import torch
from torchvision.ops import batched_nms


def nms(decoded: torch.Tensor, conf: float = 0.001, iou: float = 0.7, max_det: int = 300,
        max_candidates: int = 30000, multi_label: bool = True) -> list[dict[str, torch.Tensor]]:
    """``decoded`` (B, 4 + K, A) → per image ``boxes`` (N, 4) xyxy in input pixels, ``scores``, ``labels``.

    ``multi_label=True``: every (anchor, class) pair scoring above ``conf`` is a candidate, so a box may be kept for
    several classes (what COCO-style evaluation at a low ``conf`` rewards). ``multi_label=False``: one candidate per
    anchor, its best class (at most A instead of K x A candidates: the fast path for prediction). Either way NMS is
    per class, and the whole batch goes through one ``batched_nms`` (image and class together form the category),
    so there is no per-image loop."""
    pred = decoded.float().transpose(1, 2)  # (B, A, 4 + K)
    batch, k = pred.shape[0], pred.shape[2] - 4
    if multi_label:
        img, anchor, label = (pred[..., 4:] > conf).nonzero(as_tuple=True)
        s = pred[img, anchor, 4 + label]
    else:
        best, best_label = pred[..., 4:].max(-1)  # (B, A)
        img, anchor = (best > conf).nonzero(as_tuple=True)
        s, label = best[img, anchor], best_label[img, anchor]
    if batch > 1:
        img, anchor, label, s = _first_per_image(img, s, max_candidates, anchor, label, s)
    elif len(s) > max_candidates:  # one image (predict's usual call): no grouping needed
        top = s.topk(max_candidates).indices
        img, anchor, label, s = img[top], anchor[top], label[top], s[top]
    b = pred[img, anchor, :4]
    keep = batched_nms(b, s, img * k + label, iou)  # by descending score
    if batch > 1:
        img, keep = _first_per_image(img[keep], s[keep], max_det, keep)
    else:
        keep = keep[:max_det]
        img = img[keep]
    counts = torch.bincount(img, minlength=batch).tolist()
    return [{"boxes": bb, "scores": ss, "labels": ll} for bb, ss, ll in
            zip(b[keep].split(counts), s[keep].split(counts), label[keep].split(counts))]


def _first_per_image(img: torch.Tensor, score: torch.Tensor, n: int, *fields: torch.Tensor
                     ) -> tuple[torch.Tensor, ...]:
    """Grouped by image (ascending), each image's ``n`` highest scores first; returns ``img`` and ``fields`` so
    ordered and cut."""
    order = score.argsort(descending=True, stable=True)
    order = order[img[order].argsort(stable=True)]
    img = img[order]
    start = torch.searchsorted(img, img, side="left")  # index of each entry's image's first entry
    rank = torch.arange(len(img), device=img.device) - start
    take = order[rank < n]
    return (img[rank < n], *(f[take] for f in fields))


def to_original(boxes: torch.Tensor, letterbox: torch.Tensor, orig_hw: tuple[int, int] | torch.Tensor
                ) -> torch.Tensor:
    """Inverse of ``letterbox``: ``letterbox`` = (scale_x, scale_y, pad_x, pad_y); boxes clipped to the image."""
    sx, sy, px, py = (float(v) for v in letterbox)
    h, w = (int(v) for v in orig_hw)
    out = boxes.clone()
    out[:, 0::2] = ((out[:, 0::2] - px) / sx).clamp(0, w)
    out[:, 1::2] = ((out[:, 1::2] - py) / sy).clamp(0, h)
    return out
