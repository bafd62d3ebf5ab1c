"""From the network's pre-NMS output to detections: score threshold, per-class NMS (torchvision's batched_nms),
and boxes mapped from the letterboxed input back to the original image."""

from __future__ import annotations

import torch
from torchvision.ops import batched_nms


def nms(decoded: torch.Tensor, conf: float = 0.001, iou: float = 0.7, max_det: int = 300,
        max_candidates: int = 30000) -> list[dict[str, torch.Tensor]]:
    """``decoded`` (B, 4 + K, A) → per image ``boxes`` (N, 4) xyxy in input pixels, ``scores``, ``labels``.
    Multi-label: a box may be kept for several classes (as COCO-style evaluation rewards)."""
    out = []
    for pred in decoded.float().transpose(1, 2):  # (A, 4 + K)
        boxes, scores = pred[:, :4], pred[:, 4:]
        anchor, label = (scores > conf).nonzero(as_tuple=True)
        s = scores[anchor, label]
        if len(s) > max_candidates:
            s, keep = s.topk(max_candidates)
            anchor, label = anchor[keep], label[keep]
        b = boxes[anchor]
        keep = batched_nms(b, s, label, iou)[:max_det]
        out.append({"boxes": b[keep], "scores": s[keep], "labels": label[keep]})
    return out


def to_original(boxes: torch.Tensor, letterbox: torch.Tensor, orig_hw: tuple[int, int] | torch.Tensor
                ) -> torch.Tensor:
    """Inverse of ``letterbox``: ``letterbox`` = (scale_x, scale_y, pad_x, pad_y); boxes clipped to the image."""
    sx, sy, px, py = (float(v) for v in letterbox)
    h, w = (int(v) for v in orig_hw)
    out = boxes.clone()
    out[:, 0::2] = ((out[:, 0::2] - px) / sx).clamp(0, w)
    out[:, 1::2] = ((out[:, 1::2] - py) / sy).clamp(0, h)
    return out
