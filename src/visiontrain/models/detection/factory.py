"""torchvision's detectors by name, sized to the data's classes (plus background), built offline by default."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.detection.weights import offline_torchvision_weights

Architecture = Literal[
    "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn_v2", "fcos_resnet50_fpn",
    "ssdlite320_mobilenet_v3_large", "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2",
]


def has_masks(architecture: str) -> bool:
    return architecture.startswith("maskrcnn")


def _weight_enum(getter, name: str | None, key: str):
    if not name:
        return None
    enum = getter()
    if name == "DEFAULT":
        return enum.DEFAULT
    try:
        return enum[name]
    except KeyError:
        raise ConfigError(f"{key}: '{name}' is not a weights name; valid choices: DEFAULT, "
                          + ", ".join(w.name for w in enum)) from None


def build_detector(architecture: str, num_classes: int, weights: str | None = None,
                   weights_backbone: str | None = None, trainable_backbone_layers: int | None = None,
                   min_size: int | None = None, max_size: int | None = None,
                   extra: dict[str, Any] | None = None) -> nn.Module:
    """``num_classes`` counts the background. With COCO ``weights`` the model is built as published (91 classes)
    and its class-specific layers are replaced for ``num_classes``."""
    import torchvision.models as tvm
    import torchvision.models.detection as tvd

    builder = getattr(tvd, architecture)
    kwargs: dict[str, Any] = dict(extra or {})
    if min_size is not None or max_size is not None:
        if architecture.startswith("ssdlite"):
            raise ConfigError("model.min_size/max_size: ssdlite320 works at a fixed 320x320; leave them null")
        kwargs.update({k: v for k, v in (("min_size", min_size), ("max_size", max_size)) if v is not None})
    if trainable_backbone_layers is not None:
        kwargs["trainable_backbone_layers"] = trainable_backbone_layers
    w = _weight_enum(lambda: tvm.get_model_weights(architecture), weights, "model.weights")
    backbone_enum = tvm.MobileNet_V3_Large_Weights if "mobilenet" in architecture else tvm.ResNet50_Weights
    wb = _weight_enum(lambda: backbone_enum, weights_backbone, "model.weights_backbone")
    with offline_torchvision_weights():
        if w is None:
            return builder(weights=None, weights_backbone=wb, num_classes=num_classes, **kwargs)
        model = builder(weights=w, weights_backbone=None, **kwargs)
    replace_class_layers(model, architecture, num_classes)
    return model


def replace_class_layers(model: nn.Module, architecture: str, num_classes: int) -> None:
    """Fine-tuning a pretrained detector on new classes: fresh class-specific layers, everything else kept."""
    from torchvision.models.detection import faster_rcnn, fcos, mask_rcnn, retinanet, ssdlite
    from torchvision.models.detection import _utils as det_utils

    if architecture.startswith(("fasterrcnn", "maskrcnn")):
        in_features = model.roi_heads.box_predictor.cls_score.in_features
        model.roi_heads.box_predictor = faster_rcnn.FastRCNNPredictor(in_features, num_classes)
        if architecture.startswith("maskrcnn"):
            in_channels = model.roi_heads.mask_predictor.conv5_mask.in_channels
            model.roi_heads.mask_predictor = mask_rcnn.MaskRCNNPredictor(in_channels, 256, num_classes)
    elif architecture.startswith("retinanet"):
        head = model.head.classification_head
        model.head.classification_head = retinanet.RetinaNetClassificationHead(
            model.backbone.out_channels, head.num_anchors, num_classes, norm_layer=partial(nn.GroupNorm, 32))
    elif architecture.startswith("fcos"):
        head = model.head.classification_head
        model.head.classification_head = fcos.FCOSClassificationHead(
            model.backbone.out_channels, head.num_anchors, num_classes)
    elif architecture.startswith("ssdlite"):
        channels = det_utils.retrieve_out_channels(model.backbone, (320, 320))
        anchors = model.anchor_generator.num_anchors_per_location()
        model.head.classification_head = ssdlite.SSDLiteClassificationHead(
            channels, anchors, num_classes, partial(nn.BatchNorm2d, eps=0.001, momentum=0.03))
    else:  # pragma: no cover - Architecture lists only the above
        raise ConfigError(f"model.architecture: no class-layer replacement for '{architecture}'")
    if hasattr(model, "num_classes"):
        model.num_classes = num_classes
