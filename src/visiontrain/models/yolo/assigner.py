"""Task-aligned label assignment (TOOD / YOLOv8): each ground-truth box takes the ``topk`` anchors inside it with
the highest alignment ``score^alpha * IoU^beta``; an anchor claimed by several boxes goes to the one it overlaps
most. Soft targets: the class one-hot scaled by the anchor's alignment, normalised so each box's best anchor gets
that box's best IoU.

The whole batch is assigned at once: ground truths are padded to the largest count in the batch (``gt_mask`` marks
the real ones), and IoUs are computed only for (box, anchor) pairs whose anchor centre lies inside the box, so the
cost follows the number of candidate pairs rather than B x M x A."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.ops import complete_box_iou_loss


@dataclass
class Assignment:
    fg: torch.Tensor  # (B, A) bool: anchors that learn a box
    boxes: torch.Tensor  # (B, A, 4) xyxy target box of each anchor (meaningful where fg)
    scores: torch.Tensor  # (B, A, K) soft class targets (zero on background)


@torch.no_grad()
def assign_batch(scores: torch.Tensor, boxes: torch.Tensor, points: torch.Tensor, gt_boxes: torch.Tensor,
                 gt_labels: torch.Tensor, gt_mask: torch.Tensor, topk: int = 10, alpha: float = 0.5,
                 beta: float = 6.0, eps: float = 1e-9) -> Assignment:
    """``scores`` (B, A, K) predicted probabilities, ``boxes`` (B, A, 4) predicted xyxy, ``points`` (A, 2) anchor
    centres, all in the units of ``gt_boxes`` (B, M, 4); ``gt_labels`` (B, M) in 0..K-1; ``gt_mask`` (B, M) bool,
    False on padding."""
    b, a, k = scores.shape
    m = gt_boxes.shape[1]
    gt_labels = gt_labels.long()
    if m == 0 or not gt_mask.any():
        return Assignment(torch.zeros(b, a, dtype=torch.bool, device=scores.device), boxes.new_zeros(b, a, 4),
                          scores.new_zeros(b, a, k))
    x, y = points[:, 0], points[:, 1]
    g = gt_boxes[..., None]  # (B, M, 4, 1)
    inside = ((x > g[:, :, 0] + eps) & (y > g[:, :, 1] + eps) & (x < g[:, :, 2] - eps) & (y < g[:, :, 3] - eps)
              & gt_mask[..., None])  # (B, M, A)
    bi, mi, ai = inside.nonzero(as_tuple=True)
    # CIoU of the candidate pairs only (torchvision's elementwise CIoU loss is 1 - CIoU)
    ious = scores.new_zeros(b, m, a)
    ious[bi, mi, ai] = (1 - complete_box_iou_loss(gt_boxes[bi, mi], boxes[bi, ai], reduction="none")).clamp_(min=0)
    cls_scores = scores.new_zeros(b, m, a)
    cls_scores[bi, mi, ai] = scores[bi, ai, gt_labels[bi, mi]]  # each anchor's score for the box's class
    align = cls_scores.pow(alpha) * ious.pow(beta)
    top = align.topk(min(topk, a), dim=2).indices
    pos = torch.zeros_like(inside).scatter_(2, top, True) & inside
    # an anchor claimed by several boxes keeps only the box it overlaps most
    multi = pos.sum(1) > 1  # (B, A)
    if multi.any():
        only_best = torch.zeros_like(pos).scatter_(1, ious.argmax(1, keepdim=True), True)
        pos = torch.where(multi[:, None], only_best & inside, pos)
    fg = pos.any(1)
    gt_idx = pos.byte().argmax(1)  # (B, A): the box each foreground anchor learns
    align = align * pos
    best_align = align.amax(2, keepdim=True)
    best_iou = (ious * pos).amax(2, keepdim=True)
    norm = (align * best_iou / (best_align + eps)).amax(1)  # (B, A)
    labels = gt_labels.gather(1, gt_idx)
    target_scores = F.one_hot(labels, k).to(scores.dtype) * (norm * fg)[..., None]
    target_boxes = gt_boxes.gather(1, gt_idx[..., None].expand(b, a, 4))
    return Assignment(fg, target_boxes, target_scores)


def pad_targets(boxes: list[torch.Tensor], labels: list[torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-image (M_i, 4) boxes and (M_i,) labels → (B, M, 4), (B, M), and the (B, M) mask of real entries."""
    from torch.nn.utils.rnn import pad_sequence

    counts = torch.tensor([len(t) for t in labels], device=boxes[0].device)
    gt = pad_sequence([t.reshape(-1, 4) for t in boxes], batch_first=True)
    lab = pad_sequence([t.reshape(-1).long() for t in labels], batch_first=True)
    mask = torch.arange(gt.shape[1], device=gt.device)[None] < counts[:, None]
    return gt, lab, mask


def assign(scores: torch.Tensor, boxes: torch.Tensor, points: torch.Tensor, gt_boxes: torch.Tensor,
           gt_labels: torch.Tensor, topk: int = 10, alpha: float = 0.5, beta: float = 6.0,
           eps: float = 1e-9) -> Assignment:
    """One image: ``scores`` (A, K), ``boxes`` (A, 4), ``gt_boxes`` (M, 4), ``gt_labels`` (M,) → (A, …) fields."""
    mask = torch.ones(1, len(gt_boxes), dtype=torch.bool, device=scores.device)
    a = assign_batch(scores[None], boxes[None], points, gt_boxes.reshape(1, -1, 4), gt_labels.reshape(1, -1), mask,
                     topk, alpha, beta, eps)
    return Assignment(a.fg[0], a.boxes[0], a.scores[0])
