"""Image-to-image LightningModule: denoising, inpainting (hole mask as an extra input channel) and compression
(an autoencoder's bottleneck), scored with PSNR / SSIM against the clean image and against a plain baseline."""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from visiontrain.errors import ConfigError
from visiontrain.families.base_module import VisionModule
from visiontrain.models.restoration.autoencoder import AutoencoderConfig, ConvAutoencoder
from visiontrain.models.restoration.triplets import log_triplets
from visiontrain.models.shared.config_sections import as_config
from visiontrain.models.shared.unet import UNet, UNetConfig

Task = Literal["denoise", "inpaint", "compress"]


def mean_fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Holes (mask 1) filled with each image's mean colour of the known pixels: the inpainting baseline."""
    known = 1 - mask
    mean = (image * known).sum(dim=(2, 3), keepdim=True) / known.sum(dim=(2, 3), keepdim=True).clamp(min=1)
    return image * known + mean * mask


def _metrics() -> MetricCollection:
    # per-image PSNR averaged over images (not one PSNR of the pooled squared error)
    return MetricCollection({"psnr": PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3)),
                             "ssim": StructuralSimilarityIndexMeasure(data_range=1.0)})


class ImageRestorer(VisionModule):
    def __init__(
        self,
        task: Task = "denoise",
        arch: Literal["unet", "autoencoder"] = "unet",
        unet: UNetConfig | dict | None = None,
        autoencoder: AutoencoderConfig | dict | None = None,
        residual: bool = True,
        loss: Literal["l1", "mse"] = "l1",
        hole_weight: float = 6.0,
        log_images: int = 4,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
    ) -> None:
        super().__init__(optimizer, scheduler)
        if task == "compress" and arch != "autoencoder":
            raise ConfigError("model.arch: compress needs the autoencoder (a U-Net's skips bypass any bottleneck)")
        unet_cfg, ae_cfg = as_config(UNetConfig, unet), as_config(AutoencoderConfig, autoencoder)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.hparams.update(unet=asdict(unet_cfg), autoencoder=asdict(ae_cfg))
        in_channels = 4 if task == "inpaint" else 3  # inpainting: the hole mask is a fourth input channel
        self.net = UNet(in_channels, 3, **asdict(unet_cfg)) if arch == "unet" else ConvAutoencoder(in_channels, 3, ae_cfg)
        # compression reconstructs from the code alone; adding the input back would leak it past the bottleneck
        self.residual = residual and task != "compress"
        self.train_metrics = _metrics().clone(prefix="train/")
        self.val_metrics, self.test_metrics = _metrics().clone(prefix="val/"), _metrics().clone(prefix="test/")
        self.val_baseline = PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3))
        self.test_baseline = PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3))

    @property
    def compression_ratio(self) -> float | None:
        return self.net.compression_ratio() if isinstance(self.net, ConvAutoencoder) else None

    def prepare_input(self, batch: dict) -> torch.Tensor:
        """What the network restores from; also the baseline the metrics compare against."""
        if self.hparams.task == "inpaint":
            return mean_fill(batch["input"], batch["mask"])
        return batch["input"]

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = image * 2 - 1  # [0, 1] → [-1, 1]
        if self.hparams.task == "inpaint":
            x = torch.cat([x, mask if mask is not None else torch.zeros_like(image[:, :1])], dim=1)
        out = self.net(x)
        out = image + out if self.residual else torch.sigmoid(out)
        if self.hparams.task == "inpaint" and mask is not None:
            out = image * (1 - mask) + out * mask  # known pixels are kept as they are
        return out

    def _loss(self, out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        fn = F.l1_loss if self.hparams.loss == "l1" else F.mse_loss
        loss = fn(out, target)
        if self.hparams.task == "inpaint":  # the whole image, plus the holes on their own (they are a small part)
            per_pixel = fn(out, target, reduction="none") * mask
            loss = loss + self.hparams.hole_weight * per_pixel.sum() / (mask.sum() * out.shape[1]).clamp(min=1)
        return loss

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        inp = self.prepare_input(batch)
        out = self(inp, batch["mask"])
        loss = self._loss(out, batch["target"], batch["mask"])
        self.log_train_loss(loss, len(inp))
        self.train_metrics.update(out.detach().clamp(0, 1), batch["target"])
        return loss

    def train_epoch_end(self) -> None:
        self.log_dict(self.train_metrics.compute())
        self.train_metrics.reset()

    def eval_step(self, batch: dict, batch_idx: int, stage: str) -> None:
        inp = self.prepare_input(batch)
        out = self(inp, batch["mask"])
        target = batch["target"]
        n = len(inp)
        self.log(f"{stage}/loss", self._loss(out, target, batch["mask"]), on_epoch=True, prog_bar=stage == "val",
                 sync_dist=True, batch_size=n)
        metrics, baseline = (self.val_metrics, self.val_baseline) if stage == "val" else (
            self.test_metrics, self.test_baseline)
        metrics.update(out.clamp(0, 1), target)
        self.log_dict(metrics, on_epoch=True, prog_bar=stage == "val", batch_size=n)
        if self.hparams.task != "compress":  # the corrupted input (noisy / mean-filled) scored as it is
            baseline.update(inp.clamp(0, 1), target)
            self.log(f"{stage}/psnr_input", baseline, on_epoch=True, batch_size=n)
        if self.compression_ratio is not None:
            self.log(f"{stage}/compression_ratio", self.compression_ratio, on_epoch=True, batch_size=n)
        if self.log_images_now(batch_idx, stage):
            k = self.hparams.log_images
            log_triplets(self.trainer, f"{stage}/triplets", inp[:k], out[:k], target[:k], save=stage == "test")

    def predict_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        if isinstance(batch, (list, tuple)):  # vt-predict: ([{"input", "mask"}, …], file indices), any image sizes
            return [self.predict_step({k: v[None] for k, v in item.items()}, batch_idx)[0] for item in batch[0]]
        return self(self.prepare_input(batch), batch.get("mask")).clamp(0, 1)

    def prediction_writer(self, out_dir, files, root, options):
        """What `vt-predict` writes for this module (restored images; models/restoration/predictions.py)."""
        from visiontrain.models.restoration.predictions import RestorationPredictionWriter

        return RestorationPredictionWriter(out_dir, files, root, options, self.hparams.task, self.compression_ratio)

    def param_groups(self) -> list[dict]:
        return [{"params": list(self.net.parameters()), "name": "net"}]
