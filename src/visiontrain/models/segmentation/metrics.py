"""Segmentation metrics (torchmetrics): per-class IoU over all pixels of a split, the ignore label excluded, and
Dice from it (per class, Dice = 2 IoU / (1 + IoU) exactly). ``miou``/``dice`` average over the classes that occur
in the target or the prediction: a class absent from both is NaN (left out), not 0."""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics.classification import MulticlassJaccardIndex


class SegmentationMetrics(nn.Module):
    def __init__(self, class_names: list[str], ignore_index: int) -> None:
        super().__init__()
        self.class_names = list(class_names)
        self.iou = MulticlassJaccardIndex(len(class_names), average="none", ignore_index=ignore_index,
                                          zero_division=float("nan"))

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.iou.update(preds, target)

    def compute(self, prefix: str) -> dict[str, torch.Tensor]:
        iou = self.iou.compute()
        dice = 2 * iou / (1 + iou)
        out = {f"{prefix}/miou": torch.nanmean(iou), f"{prefix}/dice": torch.nanmean(dice)}
        for name, value in zip(self.class_names, iou):
            if not torch.isnan(value):
                out[f"{prefix}/iou/{name}"] = value
        return out

    def reset(self) -> None:
        self.iou.reset()
