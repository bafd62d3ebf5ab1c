"""torchvision weights under the offline rule: read from torch's hub cache, downloaded only where a network exists,
always loaded with ``weights_only=True``; without a network the error says which file to put where."""

from __future__ import annotations

import os
from pathlib import Path

from visiontrain.errors import WeightsError


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
