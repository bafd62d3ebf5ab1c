"""What a detector takes from its datamodule at setup (torchvision detectors and YOLO alike)."""

from __future__ import annotations

from typing import Any

from visiontrain.errors import ConfigError, DataError


def take_classes_from_data(module: Any, datamodule: Any, stage: str, built: bool) -> None:
    """Builds ``module`` for the data's classes when the config named none (``module._build(names)``), refuses
    data whose classes differ from a built model's, and at fit stores the dataset's category ids (COCO ids of
    labels 0..K-1) in the hyperparameters, so checkpoints let vt-predict write results with the dataset's own ids."""
    data_classes = list(getattr(datamodule, "class_names", None) or []) or None
    if not built:
        if data_classes is None:
            raise ConfigError("model.class_names: not set and the datamodule has no class_names")
        module._build(data_classes)
    elif data_classes is not None and data_classes != module.class_names:
        raise DataError(f"the data's classes {data_classes} differ from the model's {module.class_names}")
    ids = getattr(datamodule, "category_ids", None)
    if ids and stage == "fit":
        module.hparams["category_ids"] = [int(i) for i in ids]
