"""Object detection / instance segmentation LightningModule around torchvision's detectors.

Data labels are 0..K-1; torchvision's detectors reserve 0 for the background, so labels move by +1 on the way in
and -1 on the way out. Images arrive as float [0, 1]; the detector's own transform normalises and resizes them
(``min_size``/``max_size``).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Literal

import torch

from visiontrain.errors import ConfigError, TrainingError
from visiontrain.families.base_module import VisionModule
from visiontrain.models.detection.factory import Architecture, build_detector, has_masks
from visiontrain.models.detection.weights import load_detector_file
from visiontrain.models.shared.category_ids import store_category_ids
from visiontrain.models.shared.detection_metrics import (
    Backend,
    add_eval_metrics,
    log_eval_metrics,
    metric_inputs,
    update_eval_metrics,
)
from visiontrain.models.shared.detection_overlays import log_detections

log = logging.getLogger(__name__)


class Detector(VisionModule):
    def __init__(
        self,
        architecture: Architecture = "fasterrcnn_mobilenet_v3_large_320_fpn",
        weights: str | None = None,
        weights_backbone: str | None = None,
        weights_path: str | None = None,
        trainable_backbone_layers: int | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        detector_kwargs: dict[str, Any] | None = None,
        class_names: list[str] | None = None,
        category_ids: list[int] | None = None,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        warmup_steps: int = 0,
        warmup_factor: float = 0.001,
        map_backend: Backend = "auto",
        class_metrics: bool = True,
        log_images: int = 4,
        image_score_threshold: float = 0.3,
        confusion_score_threshold: float = 0.25,
    ) -> None:
        super().__init__(optimizer, scheduler)
        self.save_plain_hyperparameters()
        self.hparams["detector_kwargs"] = self.hparams.detector_kwargs or {}
        self.masks = has_masks(architecture)
        self.model: torch.nn.Module | None = None
        if class_names:
            self.build(list(class_names))

    # --- construction -------------------------------------------------------------------------------------------
    def build(self, class_names: list[str]) -> None:
        h = self.hparams
        self.class_names = class_names
        self.hparams["class_names"] = list(class_names)  # checkpoints rebuild the heads from this
        self.model = build_detector(h.architecture, len(class_names) + 1, h.weights, h.weights_backbone,
                                    h.trainable_backbone_layers, h.min_size, h.max_size, h.detector_kwargs)
        if h.weights_path:
            load_detector_file(self.model, h.weights_path)
        add_eval_metrics(self, len(class_names), self.masks)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if self.masks and dm is not None and not getattr(dm, "with_masks", False):
            raise ConfigError(f"model.architecture: {self.hparams.architecture} needs instance masks; "
                              "set data.with_masks=true (COCO polygons/RLE or instance-mask PNGs)")
        self.take_classes(stage)
        store_category_ids(self, dm, stage)

    # --- steps ---------------------------------------------------------------------------------------------------
    def forward(self, images: list[torch.Tensor]) -> list[dict]:
        """Predictions with labels 0..K-1 (boxes in input pixels; masks as probabilities N,1,H,W)."""
        outputs = self.model(images)
        return [{**o, "labels": o["labels"] - 1} for o in outputs]

    def _model_targets(self, targets: list[dict]) -> list[dict]:
        keys = ("boxes", "labels", "masks") if self.masks else ("boxes", "labels")
        return [{k: (t[k] + 1 if k == "labels" else t[k]) for k in keys} for t in targets]

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, targets = batch
        losses = self.model(images, self._model_targets(targets))
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            parts = ", ".join(f"{k}={float(v):.4g}" for k, v in losses.items())
            raise TrainingError(f"non-finite training loss at step {self.global_step} ({parts}); lower "
                              "model.optimizer.lr, raise model.warmup_steps or set trainer.gradient_clip_val")
        n = len(images)
        self.log_train_loss(loss, n, {f"train/{k}": v for k, v in losses.items()})
        return loss

    def eval_step(self, batch, batch_idx: int, stage: str) -> None:
        images, targets = batch
        predictions = self(images)
        preds, gts = metric_inputs(predictions, targets, self.masks)
        update_eval_metrics(self, stage, preds, gts)
        if stage == "val" and self.log_images_now(batch_idx):
            n = self.hparams.log_images
            log_detections(self.trainer, f"{stage}/detections", images[:n], preds[:n], gts[:n], self.class_names,
                           self.hparams.image_score_threshold)

    def eval_epoch_end(self, stage: str) -> None:
        log_eval_metrics(self, stage, self.masks)

    def train_epoch_end(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        dataset = getattr(dm, "datasets", {}).get("train")
        if dataset is not None and dataset.dropped:  # exact with num_workers=0, a lower bound with workers
            log.info(f"epoch {self.current_epoch}: {dict(dataset.dropped)}")

    def predict_step(self, batch, batch_idx: int) -> list[dict]:
        images = batch[0] if isinstance(batch, (list, tuple)) and isinstance(batch[0], (list, tuple)) else batch
        return self(list(images))

    def prediction_writer(self, out_dir, files, root, options):
        """What `vt-predict` writes for this module (COCO results JSON + overlays)."""
        from visiontrain.models.shared.detection_predictions import DetectionPredictionWriter

        return DetectionPredictionWriter(out_dir, files, root, options, self.class_names,
                                         self.hparams.get("category_ids"))

    def export_to(self, fmt: str, path, opset: int, atol: float, rtol: float) -> dict[str, float]:
        """What `vt-export` does for this module: the whole detector, checked (models/detection/export.py)."""
        from visiontrain.models.detection.export import export_detector

        return export_detector(self, fmt, path, opset=opset, atol=atol, rtol=rtol)

    # --- optimisation --------------------------------------------------------------------------------------------
    def configure_optimizers(self):
        built = super().configure_optimizers()
        if not self.hparams.warmup_steps:
            return built
        optimizer, schedulers = (built["optimizer"], [built["lr_scheduler"]]) if isinstance(built, dict) else (
            built, [])
        # Linear warm-up per step, as torchvision's detection references do; it multiplies the main schedule.
        warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=self.hparams.warmup_factor,
                                                   total_iters=self.hparams.warmup_steps)
        return [optimizer], [*schedulers, {"scheduler": warmup, "interval": "step", "name": "warmup"}]
