"""U-Net with a torchvision ResNet encoder (optionally pretrained, under the offline weights rule of
``models.classification.backbones``): skips at strides 2, 4, 8, 16; the decoder upsamples back to the input size."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.unet import DoubleConv, Norm


@dataclass
class EncoderConfig:
    backbone: str = "resnet18"  # resnet18/34/50/101/152, resnext*, wide_resnet*
    weights: str | None = None  # torchvision weights name (DEFAULT, IMAGENET1K_V1, …): downloads where a network exists
    weights_path: str | None = None  # or a local state_dict / checkpoint
    decoder_channels: list[int] = field(default_factory=lambda: [256, 128, 64, 32])
    lr_ratio: float = 1.0  # encoder lr = ratio x decoder lr (e.g. 0.1 to fine-tune a pretrained encoder gently)
    norm: Norm = "batch"


class ResNetUNet(nn.Module):
    def __init__(self, cfg: EncoderConfig, out_channels: int) -> None:
        super().__init__()
        from visiontrain.models.classification.backbones import create_backbone
        from visiontrain.models.classification.weights_file import load_backbone_weights

        if not any(cfg.backbone.startswith(p) for p in ("resnet", "resnext", "wide_resnet")):
            raise ConfigError(f"model.encoder.backbone: '{cfg.backbone}' is not a torchvision ResNet "
                              "(resnet18/34/50/101/152, resnext*, wide_resnet*)")
        if len(cfg.decoder_channels) != 4:
            raise ConfigError(f"model.encoder.decoder_channels: four values (strides 16, 8, 4, 2), got "
                              f"{cfg.decoder_channels}")
        net = create_backbone(cfg.backbone, cfg.weights)
        if cfg.weights_path:
            load_backbone_weights(net.features, cfg.weights_path)
        r = net.features
        self.mean, self.std = net.mean, net.std
        self.encoder = nn.ModuleList([
            nn.Sequential(r.conv1, r.bn1, r.relu),  # stride 2
            nn.Sequential(r.maxpool, r.layer1),  # 4
            r.layer2, r.layer3, r.layer4,  # 8, 16, 32
        ])
        with torch.no_grad():
            chans = [f.shape[1] for f in self._encode(torch.zeros(1, 3, 64, 64))]
        dec = cfg.decoder_channels
        cin = chans[-1]
        self.decoder = nn.ModuleList()
        for skip, cout in zip(reversed(chans[:-1]), dec):
            self.decoder.append(DoubleConv(cin + skip, cout, cfg.norm))
            cin = cout
        self.head = nn.Sequential(DoubleConv(cin, dec[-1], cfg.norm), nn.Conv2d(dec[-1], out_channels, 1))

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for stage in self.encoder:
            x = stage(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        feats = self._encode(x)
        y = feats.pop()
        for block in self.decoder:
            skip = feats.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([skip, y], dim=1))
        y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)  # stride 2 → full resolution
        return self.head(y)
