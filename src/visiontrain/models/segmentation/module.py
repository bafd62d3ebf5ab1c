"""Semantic segmentation LightningModule: U-Net, or a U-Net on a torchvision ResNet or timm encoder; losses from config,
mIoU/Dice/per-class IoU."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Callable, Literal

import torch
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.families.base_module import VisionModule
from visiontrain.models.compile import compile_for_training
from visiontrain.models.segmentation.encoder_unet import EncoderUNet
from visiontrain.models.segmentation.losses import LossConfig, SegmentationLoss
from visiontrain.models.segmentation.metrics import SegmentationMetrics
from visiontrain.models.segmentation.overlays import log_mask_overlays
from visiontrain.models.segmentation.resnet_unet import EncoderConfig, ResNetUNet
from visiontrain.models.shared.config_sections import as_config
from visiontrain.models.shared.normalize import Normalize
from visiontrain.models.shared.unet import UNet, UNetConfig
from visiontrain.results.segmentation_figures import log_segmentation_figures

log = logging.getLogger(__name__)


class SemanticSegmenter(VisionModule):
    def __init__(
        self,
        arch: Literal["unet", "unet_resnet", "unet_timm"] = "unet",
        unet: UNetConfig | dict | None = None,
        encoder: EncoderConfig | dict | None = None,
        loss: LossConfig | dict | None = None,
        class_names: list[str] | None = None,
        ignore_index: int | None = None,
        log_images: int = 4,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        compile: bool = False,  # torch.compile the network for training (models/compile.py)
    ) -> None:
        super().__init__(optimizer, scheduler)
        self.unet_cfg, self.encoder_cfg = as_config(UNetConfig, unet), as_config(EncoderConfig, encoder)
        self.loss_cfg = as_config(LossConfig, loss)
        if class_names is not None:
            class_names = [str(c) for c in class_names]
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])  # partials come from the run config
        self.hparams.update(unet=asdict(self.unet_cfg), encoder=asdict(self.encoder_cfg), loss=asdict(self.loss_cfg))
        self.net: nn.Module | None = None
        if class_names:
            self.build(list(class_names))

    def build(self, class_names: list[str]) -> None:
        ignore_index = self.hparams.ignore_index if self.hparams.ignore_index is not None else 255
        n = len(class_names)
        if n < 2:
            raise ConfigError(f"model.class_names: segmentation needs at least 2 classes, got {class_names}")
        if self.hparams.arch == "unet":
            self.net = UNet(3, n, **asdict(self.unet_cfg))
            mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
        else:
            if self.hparams.arch == "unet_timm":
                from visiontrain.models.segmentation.timm_unet import TimmUNet  # timm is optional

                self.net = TimmUNet(self.encoder_cfg, n)
            else:
                self.net = ResNetUNet(self.encoder_cfg, n)
            mean, std = self.net.mean, self.net.std
            # the checkpoint holds the trained encoder: rebuilding it must not fetch pretrained weights again
            self.hparams["encoder"] = {**self.hparams["encoder"], "weights": None, "weights_path": None}
        self.normalize = Normalize(mean, std)
        self.class_names, self.ignore_index = class_names, ignore_index
        self.hparams.update(class_names=list(class_names), ignore_index=ignore_index)
        self.criterion = SegmentationLoss(self.loss_cfg, n, ignore_index)
        self.val_metrics = SegmentationMetrics(class_names, ignore_index)
        self.test_metrics = SegmentationMetrics(class_names, ignore_index)

    def setup(self, stage: str) -> None:
        data_ignore = getattr(getattr(self.trainer, "datamodule", None), "ignore_index", None)
        if not self.built and data_ignore is not None:  # the data's ignore label wins over the config's
            self.hparams["ignore_index"] = data_ignore
        self.take_classes(stage)
        compile_for_training(self, stage, self.net)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(images))

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, masks = batch
        loss, parts = self.criterion(self(images), masks)
        terms = {f"train/loss_{k}": v for k, v in parts.items()} if len(parts) > 1 else None
        self.log_train_loss(loss, len(images), terms)
        return loss

    def eval_step(self, batch, batch_idx: int, stage: str) -> None:
        images, masks = batch
        logits = self(images)
        loss, _ = self.criterion(logits, masks)
        preds = logits.argmax(dim=1)
        (self.val_metrics if stage == "val" else self.test_metrics).update(preds, masks)
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage == "val", sync_dist=True, batch_size=len(images))
        if self.log_images_now(batch_idx, stage):
            n = self.hparams.log_images
            log_mask_overlays(self.trainer, f"{stage}/masks", images[:n], masks[:n], preds[:n], self.class_names,
                              self.ignore_index)

    def eval_epoch_end(self, stage: str) -> None:
        metrics = self.val_metrics if stage == "val" else self.test_metrics
        log_segmentation_figures(self.trainer, metrics.iou, stage, self.class_names)
        self.log_dict(metrics.compute(stage), prog_bar=False)
        metrics.reset()

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self(self.predict_images(batch)).softmax(dim=1)

    def prediction_writer(self, out_dir, files, root, options):
        """What `vt-predict` writes for this module (mask PNGs + overlays)."""
        from visiontrain.models.segmentation.predictions import MaskPredictionWriter

        return MaskPredictionWriter(out_dir, files, root, options, self.class_names)

    def export_model(self) -> nn.Module:
        """What `vt-export` exports: images in [0, 1] → per-class logits."""
        return nn.Sequential(self.normalize, self.net)

    def param_groups(self) -> list[dict]:
        if isinstance(self.net, EncoderUNet):
            groups = [{"params": list(self.net.encoder.parameters()), "lr_scale": self.encoder_cfg.lr_ratio,
                       "name": "encoder"},
                      {"params": [p for n, p in self.net.named_parameters() if not n.startswith("encoder.")],
                       "lr_scale": 1.0, "name": "decoder"}]
        else:
            groups = [{"params": list(self.net.parameters()), "name": "unet"}]
        return groups
