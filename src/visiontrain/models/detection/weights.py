"""Detector weights under the offline rule: torchvision weights come from torch's hub cache (downloaded only where a
network exists, always read with ``weights_only=True``); a local file fills every tensor whose shape matches."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from torch import nn

from visiontrain.errors import WeightsError
from visiontrain.utils.checkpoints import load_checkpoint

log = logging.getLogger(__name__)


def cached_file(weight_enum) -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / weight_enum.url.rsplit("/", 1)[-1]


def fetch_state_dict(weight_enum) -> dict:
    import torch

    path = cached_file(weight_enum)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(weight_enum.url, str(path), progress=False)
        except Exception as exc:  # no network, proxy, DNS: all end the same way for the user
            raise WeightsError(f"weights {weight_enum} are not cached and could not be downloaded "
                               f"({type(exc).__name__}); put {path.name} (from {weight_enum.url}) into "
                               f"{path.parent}{os.sep}, or set model.weights_path") from None
    return torch.load(path, map_location="cpu", weights_only=True)


@contextmanager
def offline_torchvision_weights() -> Iterator[None]:
    """torchvision's builders load weights through ``WeightsEnum.get_state_dict`` (``weights_only=False``, always
    online); for the duration of a build it goes through ``fetch_state_dict`` instead."""
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
