"""The decoder shared by the U-Nets on a pretrained encoder: the encoder yields feature maps at growing strides; from
the deepest one up, each is upsampled to the next skip's size, concatenated with it and double-convolved. The head
(a double convolution and a 1x1 classifier) then runs either on features upsampled to the input size
(``head_resolution="input"``), or at the shallowest skip's resolution with its logits upsampled to the input size
(``"skip"``: the same parameters, a quarter of the head's pixels at stride 2, and only class logits at full size)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.models.shared.unet import DoubleConv, Norm

HeadResolution = Literal["input", "skip"]
Upsample = Literal["bilinear", "nearest"]


class EncoderUNet(nn.Module):
    """Subclasses set ``encoder``, ``mean``, ``std``, implement ``_encode`` and call ``_build_decoder``."""

    encoder: nn.Module
    head_resolution: HeadResolution = "input"
    upsample: Upsample = "bilinear"

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def _build_decoder(self, chans: list[int], decoder_channels: list[int], norm: Norm, out_channels: int,
                       head_resolution: HeadResolution = "input", upsample: Upsample = "bilinear") -> None:
        """``chans``: encoder channels, shallow to deep; one decoder width per skip (all stages but the deepest)."""
        self.head_resolution, self.upsample = head_resolution, upsample
        cin = chans[-1]
        self.decoder = nn.ModuleList()
        for skip, cout in zip(reversed(chans[:-1]), decoder_channels):
            self.decoder.append(DoubleConv(cin + skip, cout, norm))
            cin = cout
        last = decoder_channels[-1]
        self.head = nn.Sequential(DoubleConv(cin, last, norm), nn.Conv2d(last, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        feats = self._encode(x)
        y = feats.pop()
        for block in self.decoder:
            skip = feats.pop()
            y = _resize(y, skip.shape[-2:], self.upsample)
            y = block(torch.cat([skip, y], dim=1))
        if self.head_resolution == "skip":
            return _resize(self.head(y), size, "bilinear")
        return self.head(_resize(y, size, self.upsample))  # shallowest stride → full resolution


def _resize(x: torch.Tensor, size, mode: Upsample) -> torch.Tensor:
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
