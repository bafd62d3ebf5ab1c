"""YOLOv8 detection loss: BCE on the soft task-aligned class targets, CIoU and distribution focal loss (DFL) on
the assigned anchors, each weighted by the anchor's target score and normalised by their total."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import complete_box_iou_loss

from visiontrain.models.yolo.assigner import assign_batch, pad_targets
from visiontrain.models.yolo.blocks import dfl_decode
from visiontrain.models.yolo.network import YOLONet, make_anchors


def dfl_loss(logits: torch.Tensor, target: torch.Tensor, reg_max: int) -> torch.Tensor:
    """(N, 4*reg_max) logits, (N, 4) distances in grid cells → (N,): cross-entropy spread over the two bins that
    bracket the target, so the expected value of the distribution lands on it."""
    target = target.clamp(0, reg_max - 1 - 0.01)
    left = target.long()
    w_right = target - left
    logits = logits.reshape(-1, reg_max)
    ce_l = F.cross_entropy(logits, left.view(-1), reduction="none").view(left.shape)
    ce_r = F.cross_entropy(logits, (left + 1).view(-1), reduction="none").view(left.shape)
    return (ce_l * (1 - w_right) + ce_r * w_right).mean(-1)


class YOLOLoss:
    def __init__(self, net: YOLONet, box: float = 7.5, cls: float = 0.5, dfl: float = 1.5, topk: int = 10,
                 alpha: float = 0.5, beta: float = 6.0) -> None:
        self.net, self.gains = net, (box, cls, dfl)
        self.topk, self.alpha, self.beta = topk, alpha, beta

    def __call__(self, maps: list[torch.Tensor], targets: list[dict]) -> dict[str, torch.Tensor]:
        """``targets``: per image ``boxes`` (M, 4) xyxy in input pixels and ``labels`` (M,) in 0..K-1. The batch is
        assigned and scored at once (no per-image loop)."""
        net = self.net
        box_logits, cls_logits = (t.float() for t in net.flatten(maps))  # losses in fp32 under autocast
        points, strides = make_anchors([tuple(m.shape[2:]) for m in maps], maps[0].device, torch.float32)
        dist = dfl_decode(box_logits, net.reg_max)
        pred = torch.cat([points - dist[..., :2], points + dist[..., 2:]], -1)  # grid units
        batch = len(targets)
        gt, labels, mask = pad_targets([t["boxes"].to(pred.device, torch.float32) for t in targets],
                                       [t["labels"].to(pred.device) for t in targets])
        a = assign_batch(cls_logits.detach().sigmoid(), pred.detach() * strides, points * strides, gt, labels, mask,
                         self.topk, self.alpha, self.beta)
        norm = a.scores.sum().clamp(min=1.0)
        loss_cls = F.binary_cross_entropy_with_logits(cls_logits, a.scores, reduction="sum") / norm
        fg = a.fg
        if fg.any():
            weight = a.scores[fg].sum(-1)
            anchor = fg.nonzero(as_tuple=True)[1]  # anchor index of each foreground (image, anchor) pair
            tgt = a.boxes[fg] / strides[anchor]
            loss_box = (complete_box_iou_loss(pred[fg], tgt, reduction="none") * weight).sum()
            ltrb = torch.cat([points[anchor] - tgt[:, :2], tgt[:, 2:] - points[anchor]], -1)
            loss_dfl = (dfl_loss(box_logits[fg], ltrb, net.reg_max) * weight).sum()
        else:  # keep the graph connected (DDP) with zero-valued terms
            loss_box = loss_dfl = pred.sum() * 0.0
        gb, gc, gd = self.gains
        parts = {"loss_box": gb * loss_box / norm, "loss_cls": gc * loss_cls, "loss_dfl": gd * loss_dfl / norm}
        # Ultralytics multiplies by the batch size (a sum over images): the same gradient scale as its lr recipe
        return {k: v * batch for k, v in parts.items()}
