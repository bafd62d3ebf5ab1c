"""Detector weights under the offline rule: torchvision weights come from torch's hub cache (downloaded only where a
network exists, always read with ``weights_only=True``); a local file fills every tensor whose shape matches."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from torch import nn

from visiontrain.errors import WeightsError
from visiontrain.weights.checkpoints import load_checkpoint
from visiontrain.weights.pretrained import fetch_state_dict

log = logging.getLogger(__name__)


@contextmanager
def offline_torchvision_weights() -> Iterator[None]:
    """torchvision's builders load weights through ``WeightsEnum.get_state_dict`` (full unpickling, always online);
    for the duration of a build it goes through ``fetch_state_dict`` instead."""
    from torchvision.models._api import WeightsEnum

    original = WeightsEnum.get_state_dict
    WeightsEnum.get_state_dict = lambda self, *args, **kwargs: fetch_state_dict(self)
    try:
        yield
    finally:
        WeightsEnum.get_state_dict = original


def load_detector_file(model: nn.Module, path: str) -> dict[str, int]:
    """A torchvision detector state_dict or a visiontrain checkpoint (keys under ``model.``); heads sized for other
    classes are left as built (fine-tuning)."""
    state = load_checkpoint(Path(path).expanduser())
    if isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if any(k.startswith("model.") for k in state):
        state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not matched:
        raise WeightsError(f"{path}: no tensor matches the detector (first keys in file: {list(state)[:3]})")
    model.load_state_dict(matched, strict=False)
    skipped = sorted(k for k in own if k not in matched)
    log.info(f"{path}: loaded {len(matched)}/{len(own)} tensors; not from the file: {skipped[:6]}")
    return {"matched": len(matched), "missing": len(skipped)}
