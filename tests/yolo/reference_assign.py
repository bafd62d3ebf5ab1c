"""The per-image task-aligned assigner and loss loop the batched ones replaced, kept as the test oracle: the batched
code must give the same assignment and the same loss on any batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import complete_box_iou, complete_box_iou_loss

from visiontrain.models.yolo.blocks import dfl_decode
from visiontrain.models.yolo.loss import dfl_loss
from visiontrain.models.yolo.network import make_anchors


@torch.no_grad()
def assign_one(scores, boxes, points, gt_boxes, gt_labels, topk=10, alpha=0.5, beta=6.0, eps=1e-9):
    """One image: (A, K) scores, (A, 4) boxes, (A, 2) points, (M, 4) gt boxes, (M,) labels → fg, boxes, scores."""
    a, k = scores.shape
    if len(gt_boxes) == 0:
        return torch.zeros(a, dtype=torch.bool), boxes.new_zeros(a, 4), scores.new_zeros(a, k)
    x, y = points[:, 0], points[:, 1]
    inside = ((x[None] > gt_boxes[:, 0:1] + eps) & (y[None] > gt_boxes[:, 1:2] + eps)
              & (x[None] < gt_boxes[:, 2:3] - eps) & (y[None] < gt_boxes[:, 3:4] - eps))
    ious = complete_box_iou(gt_boxes, boxes).clamp_(min=0) * inside
    align = (scores[:, gt_labels].T * inside).pow(alpha) * ious.pow(beta)
    pos = torch.zeros_like(inside).scatter_(1, align.topk(min(topk, a), dim=1).indices, True) & inside
    multi = pos.sum(0) > 1
    if multi.any():
        only_best = torch.zeros_like(pos).scatter_(0, ious.argmax(0)[None], True)
        pos = torch.where(multi[None], only_best & inside, pos)
    fg = pos.any(0)
    gt_idx = pos.float().argmax(0)
    align = align * pos
    norm = (align * (ious * pos).amax(1, keepdim=True) / (align.amax(1, keepdim=True) + eps)).amax(0)
    target = torch.zeros(a, k)
    target[torch.arange(a), gt_labels[gt_idx]] = 1.0
    return fg, gt_boxes[gt_idx], target * (norm * fg)[:, None]


def loss_per_image(net, maps, targets, gains=(7.5, 0.5, 1.5), topk=10, alpha=0.5, beta=6.0):
    """The YOLOv8 loss with one assignment per image (a Python loop over the batch)."""
    box_logits, cls_logits = (t.float() for t in net.flatten(maps))
    points, strides = make_anchors([tuple(m.shape[2:]) for m in maps], maps[0].device, torch.float32)
    dist = dfl_decode(box_logits, net.reg_max)
    pred = torch.cat([points - dist[..., :2], points + dist[..., 2:]], -1)
    probs = cls_logits.detach().sigmoid()
    target_scores = torch.zeros_like(cls_logits)
    loss_box = loss_dfl = cls_logits.new_zeros(())
    for i, t in enumerate(targets):
        fg, boxes, scores = assign_one(probs[i], pred[i].detach() * strides, points * strides,
                                       t["boxes"].float().reshape(-1, 4), t["labels"].long(), topk, alpha, beta)
        target_scores[i] = scores
        if fg.any():
            weight = scores[fg].sum(-1)
            tgt = boxes[fg] / strides[fg]
            loss_box = loss_box + (complete_box_iou_loss(pred[i][fg], tgt, reduction="none") * weight).sum()
            ltrb = torch.cat([points[fg] - tgt[:, :2], tgt[:, 2:] - points[fg]], -1)
            loss_dfl = loss_dfl + (dfl_loss(box_logits[i][fg], ltrb, net.reg_max) * weight).sum()
    norm = target_scores.sum().clamp(min=1.0)
    loss_cls = F.binary_cross_entropy_with_logits(cls_logits, target_scores, reduction="sum") / norm
    gb, gc, gd = gains
    parts = {"loss_box": gb * loss_box / norm, "loss_cls": gc * loss_cls, "loss_dfl": gd * loss_dfl / norm}
    return {k: v * len(targets) for k, v in parts.items()}
