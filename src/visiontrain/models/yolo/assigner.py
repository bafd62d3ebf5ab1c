"""Task-aligned label assignment (TOOD / YOLOv8): each ground-truth box takes the ``topk`` anchors inside it with
the highest alignment ``score^alpha * IoU^beta``; an anchor claimed by several boxes goes to the one it overlaps
most. Soft targets: the class one-hot scaled by the anchor's alignment, normalised so each box's best anchor gets
that box's best IoU."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import complete_box_iou


@dataclass
class Assignment:
    fg: torch.Tensor  # (A,) bool: anchors that learn a box
    boxes: torch.Tensor  # (A, 4) xyxy target box of each anchor (meaningful where fg)
    scores: torch.Tensor  # (A, K) soft class targets (zero on background)


@torch.no_grad()
def assign(scores: torch.Tensor, boxes: torch.Tensor, points: torch.Tensor, gt_boxes: torch.Tensor,
           gt_labels: torch.Tensor, topk: int = 10, alpha: float = 0.5, beta: float = 6.0,
           eps: float = 1e-9) -> Assignment:
    """One image. ``scores`` (A, K) predicted probabilities, ``boxes`` (A, 4) predicted xyxy, ``points`` (A, 2)
    anchor centres, all in the same units as ``gt_boxes`` (M, 4); ``gt_labels`` (M,) in 0..K-1."""
    a, k = scores.shape
    m = len(gt_boxes)
    if m == 0:
        return Assignment(torch.zeros(a, dtype=torch.bool, device=scores.device), boxes.new_zeros(a, 4),
                          scores.new_zeros(a, k))
    x, y = points[:, 0], points[:, 1]
    inside = ((x[None] > gt_boxes[:, 0:1] + eps) & (y[None] > gt_boxes[:, 1:2] + eps)
              & (x[None] < gt_boxes[:, 2:3] - eps) & (y[None] < gt_boxes[:, 3:4] - eps))  # (M, A)
    ious = complete_box_iou(gt_boxes, boxes).clamp_(min=0) * inside
    cls_scores = scores[:, gt_labels].T * inside  # (M, A): each anchor's score for the box's class
    align = cls_scores.pow(alpha) * ious.pow(beta)
    top = align.topk(min(topk, a), dim=1).indices
    pos = torch.zeros_like(inside).scatter_(1, top, True) & inside
    # an anchor claimed by several boxes keeps only the box it overlaps most
    multi = pos.sum(0) > 1
    if multi.any():
        best = ious.argmax(0)
        only_best = torch.zeros_like(pos).scatter_(0, best[None], True)
        pos = torch.where(multi[None], only_best & inside, pos)
    fg = pos.any(0)
    gt_idx = pos.float().argmax(0)
    align = align * pos
    best_align = align.amax(1, keepdim=True)
    best_iou = (ious * pos).amax(1, keepdim=True)
    norm = (align * best_iou / (best_align + eps)).amax(0)  # (A,)
    target_scores = torch.zeros(a, k, dtype=scores.dtype, device=scores.device)
    target_scores[torch.arange(a, device=scores.device), gt_labels[gt_idx]] = 1.0
    target_scores *= (norm * fg)[:, None]
    return Assignment(fg, gt_boxes[gt_idx], target_scores)
