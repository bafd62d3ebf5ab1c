"""LightningModule for the in-project YOLO detector.

Training: YOLOv8 loss on letterboxed/mosaic batches; per-step LR warm-up (bias group from ``warmup_bias_lr``, the
others from 0) into a cosine or linear decay to ``lr_final`` x lr; no weight decay on norms and biases; an EMA of
the weights that validation, test, prediction, export and the saved model use. Evaluation: NMS, boxes back in
original image coordinates, the detection family's mAP (``*/map``, ``*/map_50``, ``*/map_75``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from visiontrain.errors import ConfigError
from visiontrain.families.base_module import VisionModule
from visiontrain.models.compile import compile_for_training
from visiontrain.models.optim import build_optimizers
from visiontrain.models.shared.category_ids import store_category_ids
from visiontrain.models.shared.detection_metrics import (
    Backend,
    add_eval_metrics,
    log_eval_metrics,
    metric_inputs,
    update_eval_metrics,
)
from visiontrain.models.shared.detection_overlays import log_detections
from visiontrain.models.yolo.ema import make_ema
from visiontrain.models.yolo.loss import YOLOLoss
from visiontrain.models.yolo.network import Scale, YOLONet
from visiontrain.models.yolo.postprocess import nms, to_original

log = logging.getLogger(__name__)


def param_groups(model: torch.nn.Module) -> list[dict[str, Any]]:
    """Weights of convolutions/linears decay; norm weights and all biases do not (YOLOv8's three groups)."""
    decay, norm, bias = [], [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            if name == "bias":
                bias.append(p)
            elif isinstance(module, (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm, torch.nn.LayerNorm)):
                norm.append(p)
            else:
                decay.append(p)
    return [{"params": decay, "name": "decay"}, {"params": norm, "weight_decay": 0.0, "name": "norm"},
            {"params": bias, "weight_decay": 0.0, "name": "bias"}]


class WarmupDecay:
    """Per-step LR factor of one param group: linear warm-up from ``start`` to the decay curve, then cosine or
    linear decay from 1 to ``final``. Picklable (a LambdaLR lambda is saved with the scheduler)."""

    def __init__(self, total: int, warmup: int, start: float, final: float, kind: str) -> None:
        self.total, self.warmup, self.start, self.final, self.kind = max(total, 1), warmup, start, final, kind

    def decay(self, step: int) -> float:
        t = min(step / self.total, 1.0)
        if self.kind == "cosine":
            return self.final + (1 - self.final) * 0.5 * (1 + math.cos(math.pi * t))
        return 1 - (1 - self.final) * t

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return float(np.interp(step, [0, self.warmup], [self.start, self.decay(step)]))
        return self.decay(step)


class YOLODetector(VisionModule):
    def __init__(
        self,
        scale: Scale = "n",
        class_names: list[str] | None = None,
        category_ids: list[int] | None = None,  # set from the data at fit (COCO ids of labels 0..K-1) for vt-predict
        img_size: int | None = None,
        reg_max: int = 16,
        loss_box: float = 7.5,
        loss_cls: float = 0.5,
        loss_dfl: float = 1.5,
        assigner_topk: int = 10,
        assigner_alpha: float = 0.5,
        assigner_beta: float = 6.0,
        optimizer: Callable | None = None,
        lr_schedule: Literal["cosine", "linear"] = "linear",
        lr_final: float = 0.01,
        warmup_epochs: float = 3.0,
        warmup_min_steps: int = 100,
        warmup_bias_lr: float = 0.0,
        ema_decay: float = 0.9999,
        ema_tau: float = 2000.0,
        conf_threshold: float = 0.001,
        iou_threshold: float = 0.7,
        max_det: int = 300,
        eval_multi_label: bool = True,
        predict_multi_label: bool = False,
        map_backend: Backend = "auto",
        class_metrics: bool = True,
        log_images: int = 4,
        image_score_threshold: float = 0.3,
        confusion_score_threshold: float = 0.25,
        channels_last: bool = True,
        weights_path: str | None = None,
        compile: bool = False,  # torch.compile the trained network (models/compile.py)
    ) -> None:
        super().__init__(optimizer)
        if not 0 <= conf_threshold < 1 or not 0 < iou_threshold <= 1:
            raise ConfigError("model.conf_threshold must be in [0, 1) and model.iou_threshold in (0, 1]")
        if reg_max < 2:
            raise ConfigError(f"model.reg_max: {reg_max} must be >= 2")
        self.save_plain_hyperparameters()
        self.net: YOLONet | None = None
        if class_names:
            self.build(list(class_names))

    # --- construction -------------------------------------------------------------------------------------------
    def build(self, class_names: list[str]) -> None:
        h = self.hparams
        self.class_names = class_names
        self.hparams["class_names"] = list(class_names)  # checkpoints rebuild the head from this
        self.net = YOLONet(len(class_names), h.scale, h.reg_max)
        if h.get("weights_path"):  # fine-tune: before the EMA copy, so both start from the file
            from visiontrain.models.yolo.weights import load_yolo_weights

            load_yolo_weights(self.net, h.weights_path)
            self.hparams["weights_path"] = None  # the checkpoint holds the weights: reloading must not need the file
        if h.channels_last:
            self.net.to(memory_format=torch.channels_last)
        self.ema = make_ema(self.net, h.ema_decay, h.ema_tau)  # a copy: channels-last too
        self.criterion = YOLOLoss(self.net, h.loss_box, h.loss_cls, h.loss_dfl, h.assigner_topk, h.assigner_alpha,
                                  h.assigner_beta)
        add_eval_metrics(self, len(class_names))

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        data_size = getattr(dm, "img_size", None)
        if dm is not None and data_size is None:
            raise ConfigError("model: YOLODetector needs a YOLO datamodule (data=shapes_det_yolo or "
                              "_target_: visiontrain.data.yolo_data.YoloDataModule)")
        if self.hparams.img_size is None:
            self.hparams["img_size"] = data_size
        self.take_classes(stage)
        store_category_ids(self, dm, stage)
        compile_for_training(self, stage, self.net)  # the trained network; the EMA copy evaluates uncompiled

    @staticmethod
    def slim_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """For the weights file: the EMA network only (what validation scored), stored as ``net.*``; loading it
        copies the network into the EMA again (``on_load_checkpoint``)."""
        ema = {k.removeprefix("ema.module."): v for k, v in state.items() if k.startswith("ema.module.")}
        out = {k: v for k, v in state.items() if not k.startswith(("net.", "ema.module."))}
        out.update({f"net.{k}": v for k, v in ema.items()})
        return out

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint["state_dict"]
        if not any(k.startswith("ema.module.") for k in state):  # a weights file: its net is the EMA
            state.update({f"ema.module.{k.removeprefix('net.')}": v for k, v in list(state.items())
                          if k.startswith("net.")})

    @property
    def inference_net(self) -> YOLONet:
        """The EMA weights: what validation, test, prediction and export use."""
        return self.ema.module

    def fused_net(self) -> YOLONet:
        """The EMA net with BN folded into the convolutions, in channels-last memory format, for predict; rebuilt
        when the EMA moved or the module changed device. Channels-last: on CPU the convolutions of this network
        run about 20% faster (forward + decode 9.5 vs 11.8 ms at 160 px, 1 thread; outputs equal to ~5e-6)."""
        key = (int(self.ema.n_averaged), self.device)
        if getattr(self, "_fused", None) is None or self._fused[0] != key:
            self._fused = (key, self.inference_net.fused().to(self.device, memory_format=torch.channels_last))
        return self._fused[1]

    # --- steps ---------------------------------------------------------------------------------------------------
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Letterboxed float images (B, 3, S, S) in [0, 1] → pre-NMS (B, 4 + K, A): xyxy in input pixels, class
        probabilities."""
        net = self.inference_net
        return net.decode(net(self._memory_format(images)))

    def _memory_format(self, images: torch.Tensor) -> torch.Tensor:
        """Channels-last input for channels-last weights: forward + backward 0.83x the time on CPU (YOLO-n,
        batch 8, 160 px, one thread; benchmarks/README.md), and what GPUs' mixed-precision kernels prefer."""
        return images.contiguous(memory_format=torch.channels_last) if self.hparams.channels_last else images

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, targets = batch
        losses = self.criterion(self.net(self._memory_format(images)), targets)
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            parts = ", ".join(f"{k}={float(v):.4g}" for k, v in losses.items())
            raise ConfigError(f"non-finite training loss at step {self.global_step} ({parts}); lower "
                              "model.optimizer.lr or set trainer.gradient_clip_val")
        n = len(images)
        self.log_train_loss(loss / n, n, {f"train/{k}": v / n for k, v in losses.items()}, sync_dist=True)
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        self.ema.update_parameters(self.net)

    def on_train_epoch_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        dataset = getattr(dm, "_dataset", None) and dm._dataset("train")
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(self.current_epoch, self.trainer.max_epochs)
            if dataset.mosaic_p > 0 and not dataset.mosaic_active:
                log.info(f"epoch {self.current_epoch}: mosaic off (last {dataset.close_mosaic} epochs)")

    def eval_step(self, batch, batch_idx: int, stage: str) -> None:
        images, targets = batch
        net = self.inference_net
        maps = net(self._memory_format(images))
        # the loss in letterboxed pixels: the original boxes mapped exactly as the images were
        boxed = [{"boxes": _letterboxed(t["boxes"], t["letterbox"]), "labels": t["labels"]} for t in targets]
        keep = [(t["iscrowd"] == 0) & ~t["difficult"].bool() for t in targets]
        losses = self.criterion(maps, [{k: v[m] for k, v in b.items()} for b, m in zip(boxed, keep)])
        self.log(f"{stage}/loss", sum(losses.values()) / len(images), batch_size=len(images), sync_dist=True)
        dets = nms(net.decode(maps), self.hparams.conf_threshold, self.hparams.iou_threshold, self.hparams.max_det,
                   multi_label=self.hparams.eval_multi_label)
        for d, t in zip(dets, targets):
            d["boxes"] = to_original(d["boxes"], t["letterbox"], t["orig_size"])
        preds, gts = metric_inputs(dets, targets)
        update_eval_metrics(self, stage, preds, gts)
        if stage == "val" and self.log_images_now(batch_idx):
            n = self.hparams.log_images
            boxed_preds = [{**p, "boxes": _letterboxed(p["boxes"], t["letterbox"])} for p, t in zip(preds, targets)]
            log_detections(self.trainer, f"{stage}/detections", list(images[:n].float()), boxed_preds[:n],
                           boxed[:n], self.class_names, self.hparams.image_score_threshold)

    def eval_epoch_end(self, stage: str) -> None:
        log_eval_metrics(self, stage)

    @torch.no_grad()
    def predict(self, images: Sequence[np.ndarray | torch.Tensor | str | Path]) -> list[dict[str, torch.Tensor]]:
        """Images of any size (HxW gray, HxWx3 RGB, HxWx4 RGBA uint8, CxHxW float tensors in [0, 1], or image file
        paths) → per image ``boxes`` (xyxy in that image's pixels), ``scores``, ``labels`` (0..K-1).
        One best class per box unless ``predict_multi_label`` (evaluation uses ``eval_multi_label``)."""
        from visiontrain.data.yolo_data import image_to_tensor
        from visiontrain.imaging import read_rgb

        size = int(self.hparams.img_size or 640)
        batch, params, sizes = [], [], []
        for im in images:
            if isinstance(im, (str, Path)):
                im = read_rgb(im)  # the training reader (EXIF orientation, 16-bit, palette)
            elif isinstance(im, torch.Tensor):
                im = im.detach().cpu()
                im = im.permute(1, 2, 0).numpy() if im.ndim == 3 and im.shape[0] in (1, 3, 4) else im.numpy()
            x, p = image_to_tensor(im, size)
            batch.append(x)
            params.append(p)
            sizes.append(np.asarray(im).shape[:2])
        if not batch:
            return []
        net = self.fused_net()  # an eval-mode copy: no need to switch this module's ~500 submodules back and forth
        x = torch.stack(batch).to(self.device).contiguous(memory_format=torch.channels_last)
        dets = nms(net.decode(net(x)), self.hparams.conf_threshold, self.hparams.iou_threshold, self.hparams.max_det,
                   multi_label=self.hparams.predict_multi_label)
        for d, p, hw in zip(dets, params, sizes):
            d["boxes"] = to_original(d["boxes"], torch.from_numpy(p), hw)
        return dets

    def export_model(self) -> torch.nn.Module:
        """For vt-export: letterboxed images (B, 3, S, S) → pre-NMS (B, 4 + K, A), EMA weights, BN folded."""
        from visiontrain.models.yolo.export import _Exported

        return _Exported(self.inference_net.fused()).eval().cpu()

    def predict_step(self, batch, batch_idx: int) -> list[dict]:
        images, targets = batch
        if isinstance(images, list):  # vt-predict: images as read from their files, any size
            return self.predict(images)
        dets = nms(self(images), self.hparams.conf_threshold, self.hparams.iou_threshold, self.hparams.max_det,
                   multi_label=self.hparams.predict_multi_label)
        for d, t in zip(dets, targets):
            d["boxes"] = to_original(d["boxes"], t["letterbox"], t["orig_size"])
        return dets

    def prediction_writer(self, out_dir, files, root, options):
        """What `vt-predict` writes for this module (COCO results JSON + overlays, as for the other detectors)."""
        from visiontrain.models.yolo.predictions import YoloPredictionWriter

        return YoloPredictionWriter(out_dir, files, root, options, self.class_names, self.hparams.get("category_ids"))

    # --- optimisation --------------------------------------------------------------------------------------------
    def configure_optimizers(self):
        h = self.hparams
        groups = param_groups(self.net)
        optimizer = build_optimizers(groups, self.optimizer_factory, None)
        total = int(self.trainer.estimated_stepping_batches)
        steps_per_epoch = max(1, total // max(1, self.trainer.max_epochs or 1))
        warmup = min(max(round(h.warmup_epochs * steps_per_epoch), h.warmup_min_steps), total // 2) if \
            h.warmup_epochs > 0 else 0
        base = optimizer.param_groups[0]["lr"]
        lambdas = [WarmupDecay(total, warmup, (h.warmup_bias_lr / base) if g["name"] == "bias" else 0.0,
                               h.lr_final, h.lr_schedule) for g in optimizer.param_groups]
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "name": "lr"}}


def _letterboxed(boxes: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    sx, sy, px, py = (float(v) for v in params)
    out = boxes.float().clone()
    out[:, 0::2] = out[:, 0::2] * sx + px
    out[:, 1::2] = out[:, 1::2] * sy + py
    return out
