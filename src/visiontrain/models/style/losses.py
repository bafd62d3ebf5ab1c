"""Gatys et al. losses: content (feature MSE), style (MSE of size-normalised Gram matrices), total variation.

Normalisation follows the PyTorch neural-style tutorial: G = F Fᵀ / (C·H·W) and the mean over the C×C entries,
so that a style weight means the same at any image size and layer width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) → (B, C, C). With a mask (B, 1, H, W) only the masked positions count, normalised by their
    (squared) weight instead of H·W. Computed in float32 even under bf16 autocast: sums of squares overflow."""
    b, c, h, w = features.shape
    f = features.float().reshape(b, c, h * w)
    if mask is None:
        return f @ f.transpose(1, 2) / (c * h * w)
    m = F.interpolate(mask.float(), size=(h, w), mode="bilinear", align_corners=False).reshape(b, 1, h * w)
    f = f * m
    area = (m * m).sum(dim=2, keepdim=True).clamp_min(1e-8)
    return f @ f.transpose(1, 2) / (c * area)


def content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
                 weights: dict[str, float]) -> torch.Tensor:
    return sum(w * F.mse_loss(features[name].float(), targets[name]) for name, w in weights.items())


def style_loss(features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor], weights: dict[str, float],
               mask: torch.Tensor | None = None) -> torch.Tensor:
    return sum(w * F.mse_loss(gram(features[name], mask), target_grams[name]) for name, w in weights.items())


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation (mean absolute neighbour difference): suppresses high-frequency noise."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
