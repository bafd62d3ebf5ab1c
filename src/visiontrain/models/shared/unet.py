"""U-Net (Ronneberger et al., 2015): a contracting path of double 3x3 convolutions and max-pooling, an expanding
path that upsamples and concatenates the skip at the same resolution.

Differences from the paper, for arbitrary input sizes and modern training: "same" padding (the output has the
input's size, no cropping of skips), optional normalisation, and bilinear upsampling as an alternative to the
2x2 up-convolution. Also the image-to-image network of the restoration family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Norm = Literal["batch", "instance", "group", "none"]


@dataclass
class UNetConfig:
    depth: int = 4  # number of 2x downsamplings (the paper: 4)
    base_width: int = 64  # channels of the first level, doubled at each level (the paper: 64)
    bilinear: bool = False  # false: 2x2 transposed convolution (the paper's "up-conv"); true: bilinear + 1x1 conv
    norm: Norm = "batch"


def norm_layer(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "group":
        return nn.GroupNorm(max(1, min(32, channels // 4)), channels)
    return nn.Identity()


class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int, norm: Norm = "batch") -> None:
        bias = norm == "none"  # a following normalisation makes the bias redundant
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=bias), norm_layer(norm, cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=bias), norm_layer(norm, cout), nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """Upsample ``cin`` → ``cout`` channels, concatenate the skip (``skip`` channels), double conv to ``cout``."""

    def __init__(self, cin: int, skip: int, cout: int, bilinear: bool, norm: Norm) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                    nn.Conv2d(cin, cout, 1))
        else:
            self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv = DoubleConv(cout + skip, cout, norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        if dy or dx:  # odd sizes: pooling floored, so pad the upsampled map back to the skip's size
            x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, depth: int = 4, base_width: int = 64,
                 bilinear: bool = False, norm: Norm = "batch") -> None:
        super().__init__()
        widths = [base_width * 2**i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0], norm)
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), DoubleConv(widths[i], widths[i + 1], norm))
                                   for i in range(depth))
        self.ups = nn.ModuleList(Up(widths[i + 1], widths[i], widths[i], bilinear, norm)
                                 for i in reversed(range(depth)))
        self.outc = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)
