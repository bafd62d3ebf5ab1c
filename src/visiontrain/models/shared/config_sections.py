"""Nested config sections of a module (``model.unet``, ``model.loss`` …) as dataclasses."""

from __future__ import annotations


def as_config(cls, value):
    """A config dataclass from a dataclass, a plain dict or Hydra's DictConfig (made plain: checkpoints hold only
    plain data, since they are loaded with weights_only=True)."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(value, DictConfig):
        value = OmegaConf.to_container(value, resolve=True)
    return value if isinstance(value, cls) else cls(**(value or {}))
