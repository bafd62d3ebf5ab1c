"""The decoder shared by the U-Nets on a pretrained encoder: the encoder yields feature maps at growing strides; from
the deepest one up, each is upsampled to the next skip's size, concatenated with it and double-convolved; the result
is upsampled to the input size and classified per pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.models.segmentation.unet import DoubleConv, Norm


class EncoderUNet(nn.Module):
    """Subclasses set ``encoder``, ``mean``, ``std``, implement ``_encode`` and call ``_build_decoder``."""

    encoder: nn.Module

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def _build_decoder(self, chans: list[int], decoder_channels: list[int], norm: Norm, out_channels: int) -> None:
        """``chans``: encoder channels, shallow to deep; one decoder width per skip (all stages but the deepest)."""
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
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([skip, y], dim=1))
        y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)  # shallowest stride → full resolution
        return self.head(y)
