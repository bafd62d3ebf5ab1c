"""Single-object localization: a classifier backbone whose head answers one vector y = [x, y, w, h, class].

It is an ImageClassifier with a wider head (4 box outputs + class logits), so backbones, weights and every
transfer mode work the same; the loss adds a GIoU box loss (torchvision.ops) to the cross-entropy."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy
from torchvision.ops import box_convert, box_iou, generalized_box_iou_loss

from visiontrain.errors import ConfigError, DataError
from visiontrain.models.classification.module import ImageClassifier
from visiontrain.models.classification.transfer import TransferConfig


class ObjectLocalizer(ImageClassifier):
    def __init__(
        self,
        backbone: str = "small_cnn",
        weights: str | None = None,
        weights_path: str | None = None,
        transfer: TransferConfig | dict | None = None,
        class_names: list[str] | None = None,
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        box_weight: float = 2.0,
        l1_weight: float = 5.0,
        spatial_pool: int = 4,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        scheduler_interval: str = "epoch",
        compile: bool = False,
    ) -> None:
        super().__init__(backbone, weights, weights_path, transfer, class_names, dropout, label_smoothing, optimizer,
                         scheduler, scheduler_interval, compile)
        self.box_weight, self.l1_weight = box_weight, l1_weight

    def _keep_spatial_layout(self) -> None:
        """Global average pooling throws away where things are; pool to a small grid instead so the head sees it."""
        k = self.hparams.spatial_pool
        if k <= 1 or getattr(self, "_spatial_done", False):
            return
        owner = self.backbone
        if hasattr(owner, "pool"):  # small_cnn
            owner.pool = nn.Sequential(nn.AdaptiveAvgPool2d(k), nn.Flatten())
        elif isinstance(getattr(owner, "avgpool", None), nn.AdaptiveAvgPool2d):  # resnet, vgg, efficientnet, …
            owner.avgpool = nn.AdaptiveAvgPool2d(k)
        else:
            raise ConfigError(f"model.spatial_pool: backbone {self.hparams.backbone} has no average pooling to "
                              "replace; set model.spatial_pool=1")
        with torch.no_grad():
            self.num_features = self.backbone(torch.zeros(1, 3, 64, 64)).shape[1]
        self._spatial_done = True

    def _build_head(self, class_names: list[str]) -> None:
        self._keep_spatial_layout()
        self.head = nn.Sequential(nn.Dropout(self.hparams.dropout), nn.Linear(self.num_features, 4 + len(class_names)))
        self.class_names = list(class_names)
        self.hparams["class_names"] = list(class_names)
        n = len(class_names)
        for stage in ("train", "val", "test"):
            setattr(self, f"{stage}_metrics", MetricCollection(
                {"acc": MulticlassAccuracy(n, average="micro"), "iou": MeanMetric()}, prefix=f"{stage}/"))

    # setup() is the classifier's: head from the data's classes, the class-mismatch guard, 'apply' refused at fit,
    # frozen backbone before DDP wraps the model, find_unused_parameters for warm-up.

    def _map_classes_by_name(self, data_classes: list[str]) -> None:
        """A box head answers for the classes it was trained on: no by-name remapping as the classifier's apply."""
        raise DataError(f"the data's classes {data_classes} differ from the model's {self.class_names}")

    def predict_boxes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised xyxy boxes (sigmoid of centre and size keeps them in the image) and class logits."""
        out = self(images)
        cxcywh = out[:, :4].sigmoid()
        return box_convert(cxcywh, "cxcywh", "xyxy"), out[:, 4:]

    def _step(self, batch, stage: str) -> torch.Tensor:
        images, target = batch
        true_boxes = box_convert(target[:, :4], "xywh", "xyxy")
        labels = target[:, 4].long()
        boxes, logits = self.predict_boxes(images)
        cls_loss = F.cross_entropy(logits, labels, label_smoothing=self.hparams.label_smoothing)
        giou = generalized_box_iou_loss(boxes, true_boxes, reduction="mean")
        l1 = F.l1_loss(boxes, true_boxes)
        loss = cls_loss + self.box_weight * giou + self.l1_weight * l1
        metrics = getattr(self, f"{stage}_metrics")
        metrics["acc"].update(logits.detach(), labels)
        metrics["iou"].update(box_iou(boxes.detach().float(), true_boxes.float()).diagonal())
        if stage == "train":
            self.log_train_loss(loss, len(labels))
        else:
            self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=True, sync_dist=True, batch_size=len(labels))
        self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=stage == "val")
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def train_epoch_end(self) -> None:
        """Metrics are logged as objects in the step; nothing to add (the classifier's train metrics unused)."""

    def eval_step(self, batch, batch_idx: int, stage: str) -> None:
        self._step(batch, stage)

    def eval_epoch_end(self, stage: str) -> None:
        """No confusion matrix here: the box metrics say more."""

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        boxes, logits = self.predict_boxes(self.predict_images(batch))
        xywh = box_convert(boxes, "xyxy", "xywh")
        return torch.cat([xywh, logits.argmax(dim=1, keepdim=True).float(), logits.softmax(1).amax(1, keepdim=True)], 1)

    def prediction_writer(self, out_dir, files, root, options):
        from visiontrain.models.classification.predictions import BoxPredictionWriter

        return BoxPredictionWriter(out_dir, files, root, options, self.class_names)
