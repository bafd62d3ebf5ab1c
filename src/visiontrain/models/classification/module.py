"""Image classifier LightningModule: any backbone, a new head, five transfer-learning modes."""

from __future__ import annotations

import logging
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import ConfusionMatrix, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from visiontrain.errors import ConfigError, DataError
from visiontrain.families.base_module import VisionModule
from visiontrain.models.classification.transfer import (
    TransferConfig,
    backbone_frozen,
    batchnorm_to_eval,
    set_frozen,
)
from visiontrain.models.compile import compile_for_training
from visiontrain.models.shared.backbone_weights import load_backbone_file
from visiontrain.models.shared.backbones import create_backbone
from visiontrain.models.shared.normalize import Normalize
from visiontrain.results.classification_figures import precision_recall_figure
from visiontrain.results.figures import figures_due, log_figure

log = logging.getLogger(__name__)


class ImageClassifier(VisionModule):
    def __init__(
        self,
        backbone: str = "small_cnn",
        weights: str | None = None,
        weights_path: str | None = None,
        transfer: TransferConfig | dict | None = None,
        class_names: list[str] | None = None,
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        scheduler_interval: str = "epoch",
        compile: bool = False,  # torch.compile the network for training (models/compile.py)
    ) -> None:
        super().__init__(optimizer, scheduler)
        self.transfer = transfer if isinstance(transfer, TransferConfig) else TransferConfig(**(transfer or {}))
        # partials are rebuilt from the run config, not pickled into checkpoints
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.hparams["transfer"] = dict(vars(self.transfer))
        if self.transfer.mode == "scratch" and (weights or weights_path):
            raise ConfigError("model.transfer.mode: 'scratch' trains from random weights; unset model.weights "
                              "and model.weights_path, or choose finetune/warmup/frozen")
        if self.transfer.mode in ("finetune", "warmup", "frozen") and not (weights or weights_path):
            log.warning(f"transfer.mode={self.transfer.mode} without model.weights or model.weights_path: "
                        "the backbone starts from random weights")
        net = create_backbone(backbone, weights)
        if weights_path:
            load_backbone_file(net, weights_path)
        self.backbone = net.features
        self.normalize = Normalize(net.mean, net.std)
        self.num_features = net.num_features
        self._pretrained = net
        self.head: nn.Module | None = None
        self.eval_label_map: torch.Tensor | None = None  # model class index for each dataset class (apply mode)
        if class_names:
            self._build_head(list(class_names))

    # --- construction -------------------------------------------------------------------------------------------
    def _build_head(self, class_names: list[str]) -> None:
        keep_pretrained = self.transfer.mode == "apply" and self._pretrained.pretrained_head is not None
        if keep_pretrained and not self.hparams.get("class_names"):
            self.head = self._pretrained.pretrained_head
            class_names = self._pretrained.categories
        else:
            self.head = nn.Sequential(nn.Dropout(self.hparams.dropout), nn.Linear(self.num_features, len(class_names)))
        self.class_names = class_names
        self.hparams["class_names"] = list(class_names)  # stored in checkpoints: the head is rebuilt on load
        metrics = MetricCollection({
            "acc": MulticlassAccuracy(len(class_names), average="micro"),
            "f1": MulticlassF1Score(len(class_names), average="macro"),
        })
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        self.val_confusion = ConfusionMatrix(task="multiclass", num_classes=len(class_names))
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=len(class_names))

    def setup(self, stage: str) -> None:
        data_classes = self._data_class_names()
        if self.head is None:
            if data_classes is None:
                raise ConfigError("model.class_names: not set and the datamodule has no class_names")
            self._build_head(data_classes)
        elif data_classes is not None and data_classes != self.class_names:
            if stage == "fit":
                raise DataError(f"the data's classes {data_classes} differ from the model's {self.class_names}; "
                                "train a new head (a fresh run with model.weights_path) or evaluate with vt-eval")
            self._map_classes_by_name(data_classes)
        if stage == "fit" and self.transfer.mode == "apply":
            raise ConfigError("model.transfer.mode: 'apply' does not train; evaluate with "
                              "`vt-eval ckpt_path=… data=…` or choose finetune/warmup/frozen/scratch")
        if stage == "fit" and self.transfer.mode == "frozen":
            set_frozen(self.backbone, True)  # before DDP wraps the model: it then leaves these parameters alone
        if stage == "fit" and self.transfer.mode == "warmup":
            self._allow_unused_parameters_under_ddp()
        compile_for_training(self, stage, self.backbone, self.head)

    def _data_class_names(self) -> list[str] | None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        names = getattr(dm, "class_names", None)
        return list(names) if names is not None else None

    def _map_classes_by_name(self, data_classes: list[str]) -> None:
        unknown = [c for c in data_classes if c not in self.class_names]
        if unknown:
            raise DataError(f"the data has classes the model does not know: {unknown[:10]}; "
                            f"model classes: {self.class_names[:20]}")
        log.info(f"apply: mapping {len(data_classes)} data classes onto the model's {len(self.class_names)} by name")
        self.eval_label_map = torch.tensor([self.class_names.index(c) for c in data_classes])
        n = len(data_classes)
        self.test_metrics = MetricCollection({
            "acc": MulticlassAccuracy(n, average="micro"), "f1": MulticlassF1Score(n, average="macro")
        }, prefix="test/").to(self.device)
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=n).to(self.device)

    def _allow_unused_parameters_under_ddp(self) -> None:
        """While the backbone is frozen its parameters get no gradient; DDP must be told, or it waits for them."""
        from pytorch_lightning.strategies import DDPStrategy

        strategy = self.trainer.strategy
        if isinstance(strategy, DDPStrategy) and not strategy._ddp_kwargs.get("find_unused_parameters"):
            strategy._ddp_kwargs["find_unused_parameters"] = True
            log.info("warmup under DDP: find_unused_parameters=True (the backbone is frozen in the first epochs)")

    # --- freezing --------------------------------------------------------------------------------------------
    @property
    def backbone_is_frozen(self) -> bool:
        return backbone_frozen(self.transfer, self.current_epoch if self._trainer is not None else 0)

    def on_train_epoch_start(self) -> None:
        frozen = self.backbone_is_frozen
        set_frozen(self.backbone, frozen)
        self.train(True)  # re-applies BatchNorm eval mode for the frozen phase
        self.log("transfer/backbone_frozen", float(frozen), on_step=False, on_epoch=True, sync_dist=True)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.transfer.freeze_batchnorm and self._trainer is not None and self.backbone_is_frozen:
            batchnorm_to_eval(self.backbone)
        return self

    # --- steps ---------------------------------------------------------------------------------------------------
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(self.normalize(images)))

    def _logits_for_data(self, images: torch.Tensor) -> torch.Tensor:
        logits = self(images)
        if self.eval_label_map is not None:  # apply mode: only the data's classes compete
            logits = logits[:, self.eval_label_map.to(logits.device)]
        return logits

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, labels = batch
        logits = self(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.hparams.label_smoothing)
        self.train_metrics.update(logits.detach(), labels)
        self.log_train_loss(loss, len(labels))
        return loss

    def train_epoch_end(self) -> None:
        self.log_dict(self.train_metrics.compute(), sync_dist=False)
        self.train_metrics.reset()

    def eval_step(self, batch, batch_idx: int, stage: str) -> None:
        images, labels = batch
        logits = self._logits_for_data(images)
        loss = F.cross_entropy(logits, labels)
        metrics, confusion = (self.val_metrics, self.val_confusion) if stage == "val" else (
            self.test_metrics, self.test_confusion)
        metrics.update(logits, labels)
        confusion.update(logits.argmax(dim=1), labels)
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage == "val", sync_dist=True, batch_size=len(labels))
        self.log_dict(metrics, on_epoch=True, prog_bar=stage == "val")

    def eval_epoch_end(self, stage: str) -> None:
        self._log_confusion(self.val_confusion if stage == "val" else self.test_confusion, stage, save=stage == "test")

    def _log_confusion(self, confusion: ConfusionMatrix, stage: str, save: bool = False) -> None:
        matrix = confusion.compute()
        confusion.reset()
        if not figures_due(self.trainer, stage):
            return
        names = self._data_class_names() or self.class_names
        log_figure(self.trainer, f"{stage}/confusion_matrix", lambda: _confusion_figure(matrix, names), save=save)
        log_figure(self.trainer, f"{stage}/precision_recall", lambda: precision_recall_figure(matrix, names), save=save)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self(self.predict_images(batch)).softmax(dim=1)

    def prediction_writer(self, out_dir, files, root, options):
        """What `vt-predict` writes for this module (class JSON)."""
        from visiontrain.models.classification.predictions import ClassPredictionWriter

        return ClassPredictionWriter(out_dir, files, root, options, self.class_names)

    def export_model(self) -> nn.Module:
        """What `vt-export` exports: images in [0, 1] → logits (normalisation included, metrics left out)."""
        return nn.Sequential(self.normalize, self.backbone, self.head)

    # --- optimisation --------------------------------------------------------------------------------------------
    def param_groups(self) -> list[dict]:
        return [
            {"params": list(self.backbone.parameters()), "lr_scale": self.transfer.backbone_lr_ratio,
             "name": "backbone"},
            {"params": list(self.head.parameters()), "lr_scale": 1.0, "name": "head"},
        ]


def _confusion_figure(matrix: torch.Tensor, names: list[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    fig, ax = plt.subplots(figsize=(2 + 0.45 * n, 2 + 0.45 * n))
    m = matrix.cpu().numpy()
    ax.imshow(m, cmap="Blues")
    if n <= 30:
        ax.set_xticks(range(n), names, rotation=90)
        ax.set_yticks(range(n), names)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig
