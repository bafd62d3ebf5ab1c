"""Convolutional autoencoder for learned compression: strided convolutions down to a narrow bottleneck, transposed
convolutions back. Compression ratio = input values / bottleneck values = in_channels * 4^downsamples / channels."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.models.shared.unet import Norm, norm_layer


@dataclass
class AutoencoderConfig:
    base_width: int = 32  # channels after the first downsampling, doubled per level
    downsamples: int = 3  # each halves height and width
    bottleneck_channels: int = 16  # values per bottleneck position: what the image is compressed to
    norm: Norm = "batch"


def _block(cin: int, cout: int, norm: Norm) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=norm == "none"), norm_layer(norm, cout), nn.ReLU(inplace=True)]


class ConvAutoencoder(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, cfg: AutoencoderConfig) -> None:
        super().__init__()
        self.cfg, self.in_channels = cfg, in_channels
        widths = [cfg.base_width * 2**i for i in range(cfg.downsamples)]
        enc: list[nn.Module] = []
        c = in_channels
        for w in widths:
            enc += [nn.Conv2d(c, w, 3, stride=2, padding=1), norm_layer(cfg.norm, w), nn.ReLU(inplace=True),
                    *_block(w, w, cfg.norm)]
            c = w
        enc.append(nn.Conv2d(c, cfg.bottleneck_channels, 1))  # the code: no activation, plain float values
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(cfg.bottleneck_channels, c, 1), nn.ReLU(inplace=True)]
        for w in [*reversed(widths[:-1]), widths[0]]:  # mirror of the encoder: one upsampling per downsampling
            dec += [nn.ConvTranspose2d(c, w, 4, stride=2, padding=1), norm_layer(cfg.norm, w), nn.ReLU(inplace=True),
                    *_block(w, w, cfg.norm)]
            c = w
        dec.append(nn.Conv2d(c, out_channels, 3, padding=1))
        self.decoder = nn.Sequential(*dec)

    def compression_ratio(self) -> float:
        return self.in_channels * 4**self.cfg.downsamples / self.cfg.bottleneck_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2**self.cfg.downsamples
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:  # sizes not divisible by 2^downsamples: reflect-pad, decode, crop back
            x = F.pad(x, [0, pw, 0, ph], mode="reflect")
        return self.decoder(self.encoder(x))[..., :h, :w]
