"""The feature network of style transfer: named hidden layers of a frozen classifier.

VGG networks get the paper's layer names (``conv1_1`` … ``conv5_4``, ``relu4_2``, ``pool3``, ``bn1_1`` for the
``_bn`` variants) and are built from their ``features`` part only (the classifier of vgg19 alone holds 120M
parameters). Any other torchvision classifier (or a visiontrain classifier checkpoint) exposes its layers by
their torch.fx node names (``layer1``, ``layer2.0.relu``, …). The network stops at the deepest layer requested.
"""

from __future__ import annotations

import logging
from typing import Iterable, Literal

import torch
from torch import nn

from visiontrain.errors import ConfigError, WeightsError
from visiontrain.models.shared.backbones import IMAGENET_MEAN, IMAGENET_STD

log = logging.getLogger(__name__)

_VGG_CFGS = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
Pooling = Literal["max", "avg"]


class FeatureExtractor(nn.Module):
    """``forward(x)`` → {layer name: activation} for the requested layers; frozen and always in eval mode."""

    def __init__(self, net: nn.Module, mean, std, fx: bool) -> None:
        super().__init__()
        self.net, self.fx = net, fx
        self.channels_last = False
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.names: dict[str, str] = {}  # sequential index → layer name (VGG)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        return super().train(False)  # BatchNorm statistics and dropout must never change with the image

    def use_channels_last(self, enabled: bool = True) -> "FeatureExtractor":
        """Convolutions in NHWC memory: 0.90x the time of a style step on CPU (128-256 px, VGG19)."""
        self.channels_last = enabled
        self.net.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
        return self

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.fx:
            return self.net(x)
        out = {}
        for index, layer in self.net.named_children():
            x = layer(x)
            if index in self.names:
                out[self.names[index]] = x
        return out


def vgg_layer_names(cfg_letter: str, batch_norm: bool) -> list[str]:
    """Paper names for each module of torchvision's ``make_layers(cfgs[letter])``, in order."""
    from torchvision.models.vgg import cfgs

    names, block, conv = [], 1, 1
    for v in cfgs[cfg_letter]:
        if v == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}"] + ([f"bn{block}_{conv}"] if batch_norm else []) + [f"relu{block}_{conv}"]
            conv += 1
    return names


def build_feature_extractor(network: str, layers: dict[str, Iterable[str]], weights: str | None = None,
                            weights_path: str | None = None, pooling: Pooling = "max") -> FeatureExtractor:
    """``layers``: config key → the layer names it asks for (errors name the key holding a wrong name)."""
    if weights and weights_path:
        raise ConfigError("model.weights / model.weights_path: set one of them, not both")
    layers = {key: list(names) for key, names in layers.items()}
    stored = _stored_backbone(weights_path) if weights_path else None
    if stored and stored != network:
        raise ConfigError(f"model.network: {weights_path} holds a '{stored}' classifier; set model.network={stored}")
    base = network[:-3] if network.endswith("_bn") else network
    if base in _VGG_CFGS:
        return _vgg(network, layers, weights, weights_path, pooling)
    return _fx(network, layers, weights, weights_path, pooling)


def _vgg(network: str, layers: dict[str, list[str]], weights: str | None, weights_path: str | None,
         pooling: Pooling) -> FeatureExtractor:
    from torchvision.models.vgg import cfgs, make_layers

    batch_norm = network.endswith("_bn")
    letter = _VGG_CFGS[network[:-3] if batch_norm else network]
    names = vgg_layer_names(letter, batch_norm)
    _check_layers(layers, names, network)
    wanted = _all(layers)
    features = make_layers(cfgs[letter], batch_norm=batch_norm)
    _vgg_init(features)
    if weights:
        state = _torchvision_state(network, weights)
        features.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
    elif weights_path:
        _load_file(features, weights_path, prefix="features.")
    else:
        log.warning(f"style features: {network} with random weights (set model.weights or model.weights_path for "
                    "pretrained features: random ones reproduce colours and fine textures, not painterly strokes)")
    last = max(names.index(n) for n in wanted)
    kept = []
    for module in list(features.children())[: last + 1]:
        if isinstance(module, nn.ReLU):
            module = nn.ReLU(inplace=False)  # an in-place ReLU would overwrite the conv output we keep
        elif isinstance(module, nn.MaxPool2d) and pooling == "avg":
            module = nn.AvgPool2d(kernel_size=2, stride=2)
        kept.append(module)
    extractor = FeatureExtractor(nn.Sequential(*kept), IMAGENET_MEAN, IMAGENET_STD, fx=False)
    extractor.names = {str(names.index(n)): n for n in wanted}
    return extractor


def _vgg_init(features: nn.Module) -> None:
    """torchvision VGG's own initialisation (make_layers alone leaves PyTorch's default conv init)."""
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)


def _fx(network: str, layers: dict[str, list[str]], weights: str | None, weights_path: str | None,
        pooling: Pooling) -> FeatureExtractor:
    from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

    from visiontrain.models.shared.backbones import create_backbone

    backbone = create_backbone(network, weights)
    if weights_path:
        _load_file(backbone.features, weights_path, prefix="")
    net = backbone.features.eval()
    if pooling == "avg":
        _max_to_avg(net)
    # a module's name (``layer3``) stands for its output, as in create_feature_extractor; then the graph's nodes
    nodes = [n for n in get_graph_node_names(net)[1] if n not in ("x", "output")]
    valid = list(dict.fromkeys([n for n, _ in net.named_modules() if n] + nodes))
    _check_layers(layers, valid, network)
    extractor = create_feature_extractor(net, return_nodes={n: n for n in _all(layers)})
    return FeatureExtractor(extractor, backbone.mean, backbone.std, fx=True)


def _max_to_avg(net: nn.Module) -> None:
    for parent in net.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.MaxPool2d):
                setattr(parent, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))


def _all(layers: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(n for names in layers.values() for n in names))


def _check_layers(layers: dict[str, list[str]], valid: list[str], network: str) -> None:
    for key, names in layers.items():
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise ConfigError(f"{key}: {network} has no layer {', '.join(repr(n) for n in unknown)}; "
                              f"valid names: {', '.join(valid)}")
    if not _all(layers):
        raise ConfigError(f"{', '.join(layers)}: name at least one layer")


def _torchvision_state(network: str, weights: str) -> dict:
    import torchvision.models as tvm

    from visiontrain.weights.pretrained import fetch_state_dict

    enum = tvm.get_model_weights(network)
    try:
        chosen = enum.DEFAULT if weights == "DEFAULT" else enum[weights]
    except KeyError:
        valid = ", ".join(["DEFAULT"] + [w.name for w in enum])
        raise ConfigError(f"model.weights: '{weights}' is not a weights name of {network}; valid choices: {valid}")
    return fetch_state_dict(chosen)


def _load_file(module: nn.Module, path: str, prefix: str) -> None:
    """A torchvision state_dict or a visiontrain classifier checkpoint (its backbone's tensors)."""
    from visiontrain.models.shared.backbone_weights import load_backbone_weights

    holder = nn.Module()
    if prefix:  # VGG: the file's keys are features.<i>.weight, as in torchvision's full model
        holder.add_module(prefix.rstrip("."), module)
    counts = load_backbone_weights(holder if prefix else module, path)
    if counts["missing"] or counts["wrong_shape"]:
        raise WeightsError(f"{path}: {counts['missing']} feature tensors missing, {counts['wrong_shape']} with "
                           "another shape: the file does not hold this network's weights (check model.network)")


def _stored_backbone(path: str) -> str | None:
    """The backbone name a visiontrain classifier checkpoint was trained with, if the file is one."""
    from visiontrain.weights.checkpoints import load_checkpoint

    state = load_checkpoint(path)
    hparams = state.get("hyper_parameters") if isinstance(state, dict) else None
    return str(hparams["backbone"]) if isinstance(hparams, dict) and hparams.get("backbone") else None
