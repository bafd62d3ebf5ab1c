"""Colour preservation (Gatys et al. 2016, "Preserving color in neural artistic style transfer").

- ``luminance``: transfer on the luminance channel only (the style's luminance matched to the content's mean and
  spread), then put the content's chrominance back (YIQ).
- ``histogram``: match each style image's colour histogram to the content's before its Gram matrices are taken.
"""

from __future__ import annotations

import numpy as np
import torch

_LUMA = (0.299, 0.587, 0.114)  # the Y row of YIQ (skimage.color.rgb2yiq)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """(…, 3, H, W) RGB → (…, 1, H, W) Y."""
    weights = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(3, 1, 1)
    return (image * weights).sum(dim=-3, keepdim=True)


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation."""
    scale = content_y.std() / style_y.std().clamp_min(1e-6)
    return ((style_y - style_y.mean()) * scale + content_y.mean()).clamp(0, 1)


def match_histogram(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """(3, H, W) style with the colour histogram of the (3, H', W') content."""
    from skimage.exposure import match_histograms

    matched = match_histograms(_hwc(style), _hwc(content), channel_axis=-1)
    return torch.from_numpy(np.ascontiguousarray(matched)).permute(2, 0, 1).to(style)


def with_content_colours(y: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The optimised luminance (1, H, W) with the content's chrominance (3, H, W) → RGB (3, H, W)."""
    from skimage.color import rgb2yiq, yiq2rgb

    yiq = rgb2yiq(_hwc(content))
    yiq[..., 0] = y[0].detach().float().cpu().numpy()
    return torch.from_numpy(np.clip(yiq2rgb(yiq), 0, 1)).permute(2, 0, 1).float()


def _hwc(image: torch.Tensor) -> np.ndarray:
    return image.detach().float().cpu().permute(1, 2, 0).numpy().astype(np.float64)
