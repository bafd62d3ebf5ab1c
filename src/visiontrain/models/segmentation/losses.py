"""Segmentation losses from config: cross-entropy (class weights, ignore_index), soft Dice, Focal, weighted sums."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.errors import ConfigError


@dataclass
class LossConfig:
    ce: float = 1.0  # weight of each term in the sum; 0 leaves it out
    dice: float = 0.0
    focal: float = 0.0
    focal_gamma: float = 2.0
    class_weights: list[float] | None = None  # per class, for cross-entropy and focal (alpha)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int, eps: float = 1.0) -> torch.Tensor:
    """1 - mean soft Dice over classes, ignored pixels excluded from both prediction and target."""
    num_classes = logits.shape[1]
    valid = (target != ignore_index).unsqueeze(1)
    probs = logits.softmax(dim=1) * valid
    onehot = F.one_hot(target.masked_fill(~valid.squeeze(1), 0), num_classes).permute(0, 3, 1, 2) * valid
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    total = probs.sum(dims) + onehot.sum(dims)
    return 1 - ((2 * inter + eps) / (total + eps)).mean()


def focal_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int, gamma: float,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """Multi-class focal loss (Lin et al.): cross-entropy scaled by (1 - p_true)^gamma, mean over labelled pixels."""
    ce = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="none")
    p_true = torch.exp(-ce)
    if weight is not None:
        ce = ce * weight[target.masked_fill(target == ignore_index, 0)]
    valid = target != ignore_index
    return ((1 - p_true) ** gamma * ce)[valid].sum() / valid.sum().clamp(min=1)


class SegmentationLoss(nn.Module):
    def __init__(self, cfg: LossConfig, num_classes: int, ignore_index: int) -> None:
        super().__init__()
        if cfg.class_weights is not None and len(cfg.class_weights) != num_classes:
            raise ConfigError(f"model.loss.class_weights: {len(cfg.class_weights)} values for {num_classes} classes")
        if cfg.ce <= 0 and cfg.dice <= 0 and cfg.focal <= 0:
            raise ConfigError("model.loss: every term has weight 0; set ce, dice or focal > 0")
        self.cfg, self.ignore_index = cfg, ignore_index
        weight = torch.tensor(cfg.class_weights, dtype=torch.float32) if cfg.class_weights else None
        self.register_buffer("class_weights", weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts: dict[str, torch.Tensor] = {}
        if self.cfg.ce > 0:
            parts["ce"] = F.cross_entropy(logits, target, weight=self.class_weights, ignore_index=self.ignore_index)
        if self.cfg.dice > 0:
            parts["dice"] = dice_loss(logits, target, self.ignore_index)
        if self.cfg.focal > 0:
            parts["focal"] = focal_loss(logits, target, self.ignore_index, self.cfg.focal_gamma, self.class_weights)
        total = sum(getattr(self.cfg, name) * value for name, value in parts.items())
        return total, parts
