"""Loading backbone weights from a local file: a state_dict, or a visiontrain/Lightning checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from visiontrain.errors import WeightsError
from visiontrain.utils.checkpoints import load_checkpoint

log = logging.getLogger(__name__)


def load_backbone_weights(backbone: nn.Module, path: str) -> dict[str, int]:
    """Copy every matching tensor into ``backbone``; report what did not match. Returns counts for tests and logs.

    A Lightning checkpoint's ``state_dict`` keys start with ``backbone.``; a plain torchvision state_dict's keys
    match directly; head tensors (``fc.*``, ``classifier.*``, ``head.*``) are expected not to match.
    """
    state = load_checkpoint(Path(path).expanduser())
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
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
