"""Gatys et al. losses: content (feature MSE), style (MSE of size-normalised Gram matrices), total variation.

Normalisation follows the PyTorch neural-style tutorial: G = F Fᵀ / (C·H·W) and the mean over the C×C entries,
so that a style weight means the same at any image size and layer width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class _SymmetricGram(torch.autograd.Function):
    """``XᵀX`` of (B, N, C) → (B, C, C), or ``XXᵀ`` of (B, C, N) with ``channels_first``. The Gram matrix is
    symmetric, so its input gradient is one matmul, ``X (dG + dGᵀ)``, where autograd's matmul backward does two:
    a loss evaluation (VGG19, 128 px, CPU) takes 0.94x the time (benchmarks/README.md)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, channels_first: bool) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.channels_first = channels_first
        return x @ x.transpose(1, 2) if channels_first else x.transpose(1, 2) @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        sym = (grad + grad.transpose(1, 2)).to(x.dtype)
        return (sym @ x if ctx.channels_first else x @ sym), None


def gram(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) → (B, C, C). With a mask (B, 1, H, W) only the masked positions count, normalised by their
    (squared) weight instead of H·W. Computed in float32 even under bf16/fp16 autocast: sums of squares overflow
    fp16. Channels-last features are read as (B, H·W, C) without a copy."""
    b, c, h, w = features.shape
    with torch.autocast(device_type=features.device.type, enabled=False):
        f = features.float() if features.dtype in (torch.float16, torch.bfloat16) else features
        channels_first = not f.is_contiguous(memory_format=torch.channels_last) or f.is_contiguous()
        f = f.reshape(b, c, h * w) if channels_first else f.permute(0, 2, 3, 1).reshape(b, h * w, c)
        if mask is None:
            return _SymmetricGram.apply(f, channels_first) / (c * h * w)
        m = F.interpolate(mask.float(), size=(h, w), mode="bilinear", align_corners=False).reshape(b, 1, h * w)
        f = f * (m if channels_first else m.transpose(1, 2))
        area = (m * m).sum(dim=2, keepdim=True).clamp_min(1e-8)
        return _SymmetricGram.apply(f, channels_first) / (c * area)


def content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
                 weights: dict[str, float]) -> torch.Tensor:
    return sum(w * F.mse_loss(features[name].float(), targets[name]) for name, w in weights.items())


def style_loss(features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor], weights: dict[str, float],
               mask: torch.Tensor | None = None) -> torch.Tensor:
    return sum(w * F.mse_loss(gram(features[name], mask), target_grams[name]) for name, w in weights.items())


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation (mean absolute neighbour difference): suppresses high-frequency noise."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
