"""What a detector keeps from its datamodule at fit besides the classes (torchvision detectors and YOLO alike)."""

from __future__ import annotations

from typing import Any


def store_category_ids(module: Any, datamodule: Any, stage: str) -> None:
    """At fit, the dataset's category ids (COCO ids of labels 0..K-1) go into the hyperparameters, so checkpoints
    let vt-predict write results with the dataset's own ids."""
    ids = getattr(datamodule, "category_ids", None)
    if ids and stage == "fit":
        module.hparams["category_ids"] = [int(i) for i in ids]
