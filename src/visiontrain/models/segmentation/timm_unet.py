"""U-Net decoder on any timm model's ``features_only`` encoder: one skip per feature stage but the deepest (most timm
CNNs have five stages at strides 2-32, so four skips; ConvNeXt-style ones have four, at strides 4-32)."""

from __future__ import annotations

import torch

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.encoder_unet import EncoderUNet
from visiontrain.models.segmentation.resnet_unet import EncoderConfig
from visiontrain.models.segmentation.timm_encoder import create_timm_encoder
from visiontrain.models.shared.backbones import IMAGENET_MEAN, IMAGENET_STD


class TimmUNet(EncoderUNet):
    def __init__(self, cfg: EncoderConfig, out_channels: int) -> None:
        super().__init__()
        self.encoder = create_timm_encoder(cfg.backbone, cfg.weights, cfg.weights_path)
        pretrained_cfg = getattr(self.encoder, "pretrained_cfg", None) or {}
        self.mean = tuple(pretrained_cfg.get("mean", IMAGENET_MEAN))
        self.std = tuple(pretrained_cfg.get("std", IMAGENET_STD))
        info = self.encoder.feature_info
        chans, strides = info.channels(), info.reduction()
        if len(cfg.decoder_channels) != len(chans) - 1:
            raise ConfigError(f"model.encoder.decoder_channels: {cfg.backbone} has {len(chans) - 1} skips (strides "
                              f"{', '.join(map(str, reversed(strides[:-1])))}), so give {len(chans) - 1} values, got "
                              f"{list(cfg.decoder_channels)}")
        self._build_decoder(chans, cfg.decoder_channels, cfg.norm, out_channels, cfg.head_resolution,
                            cfg.upsample)

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.encoder(x))
