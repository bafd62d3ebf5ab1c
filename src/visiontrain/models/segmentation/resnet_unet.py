"""U-Net with a torchvision ResNet encoder (optionally pretrained, under the offline weights rule of
``models.classification.backbones``): skips at strides 2, 4, 8, 16; the decoder upsamples back to the input size."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.encoder_unet import EncoderUNet, HeadResolution, Upsample
from visiontrain.models.shared.unet import Norm


@dataclass
class EncoderConfig:
    backbone: str = "resnet18"  # unet_resnet: resnet18/34/50/101/152, resnext*, wide_resnet*; unet_timm: any timm name
    # unet_resnet: torchvision weights name (DEFAULT, IMAGENET1K_V1, …); unet_timm: DEFAULT or a pretrained tag
    # (ra_in1k, …). Downloads where a network exists.
    weights: str | None = None
    weights_path: str | None = None  # or a local file: unet_resnet a state_dict / checkpoint; unet_timm a timm file
    decoder_channels: list[int] = field(default_factory=lambda: [256, 128, 64, 32])  # one per skip, deep to shallow
    lr_ratio: float = 1.0  # encoder lr = ratio x decoder lr (e.g. 0.1 to fine-tune a pretrained encoder gently)
    norm: Norm = "batch"
    # "input": the head runs at the input size (the checkpoints of earlier versions, which store no value here);
    # "skip": at the shallowest skip's resolution, logits upsampled (the shipped configs: see encoder_unet)
    head_resolution: HeadResolution = "input"
    upsample: Upsample = "bilinear"  # of decoder features: nearest is cheaper, forward and backward


class ResNetUNet(EncoderUNet):
    def __init__(self, cfg: EncoderConfig, out_channels: int) -> None:
        super().__init__()
        from visiontrain.models.shared.backbone_weights import load_backbone_weights
        from visiontrain.models.shared.backbones import create_backbone

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
        self._build_decoder(chans, cfg.decoder_channels, cfg.norm, out_channels, cfg.head_resolution,
                            cfg.upsample)

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for stage in self.encoder:
            x = stage(x)
            feats.append(x)
        return feats
