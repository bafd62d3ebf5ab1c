"""Loading backbone weights from a local file: a state_dict, or a visiontrain/Lightning checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from visiontrain.errors import WeightsError
from visiontrain.weights import efficientnet_layout
from visiontrain.weights.checkpoints import load_checkpoint

log = logging.getLogger(__name__)


def read_backbone_state(backbone: nn.Module, path: str) -> dict:
    """The file's tensors under ``backbone``'s names: a Lightning checkpoint's ``backbone.*``, a plain state_dict,
    or an EfficientNet-PyTorch file renamed to timm's layout (every shape checked: a mismatch is an error)."""
    state = load_checkpoint(Path(path).expanduser())
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    if efficientnet_layout.is_efficientnet_pytorch(state):
        state = efficientnet_layout.to_timm(state, backbone, path)
    return state


def load_backbone_file(net, path: str) -> dict[str, int]:
    """A classifier's :class:`Backbone` from a file; an ImageNet head in the file is kept for ``apply`` mode."""
    state = read_backbone_state(net.features, path)
    counts = load_backbone_weights(net.features, path, state)
    weight, bias = state.get("classifier.weight"), state.get("classifier.bias")
    if weight is not None and bias is not None and tuple(weight.shape) == (1000, net.num_features):
        from torchvision.models._meta import _IMAGENET_CATEGORIES

        head = nn.Linear(net.num_features, 1000)
        head.load_state_dict({"weight": weight, "bias": bias})
        net.pretrained_head, net.categories = head, list(_IMAGENET_CATEGORIES)
    return counts


def load_backbone_weights(backbone: nn.Module, path: str, state: dict | None = None) -> dict[str, int]:
    """Copy every matching tensor into ``backbone``; report what did not match. Returns counts for tests and logs.

    A Lightning checkpoint's ``state_dict`` keys start with ``backbone.``; a plain torchvision state_dict's keys
    match directly; head tensors (``fc.*``, ``classifier.*``, ``head.*``) are expected not to match.
    """
    if state is None:
        state = read_backbone_state(backbone, path)
    own = backbone.state_dict()
    matched = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    wrong_shape = sorted(k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape))
    unexpected = sorted(k for k in state if k not in own)
    missing = sorted(k for k in own if k not in matched)
    if not matched:
        raise WeightsError(f"{path}: no tensor matches the backbone (first keys in file: {list(state)[:3]})")
    backbone.load_state_dict(matched, strict=False)
    log.info(f"{path}: loaded {len(matched)}/{len(own)} backbone tensors")
    if missing or wrong_shape:
        log.warning(f"{path}: {len(missing)} backbone tensors not in the file {missing[:5]}; "
                    f"{len(wrong_shape)} with another shape {wrong_shape[:5]}")
    if unexpected:
        log.info(f"{path}: {len(unexpected)} tensors ignored (heads are replaced): {unexpected[:5]}")
    return {"matched": len(matched), "missing": len(missing), "wrong_shape": len(wrong_shape),
            "unexpected": len(unexpected)}
