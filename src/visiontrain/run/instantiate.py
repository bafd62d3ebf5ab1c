"""Instantiate the collections named in the config (callbacks, loggers) and log the run config to them."""

from __future__ import annotations

import logging
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def instantiate_collection(nodes: DictConfig | None) -> list[Any]:
    """Each named node with a ``_target_`` becomes an object; ``null`` entries switch one off."""
    from hydra.utils import instantiate

    if not nodes:
        return []
    return [instantiate(node) for node in nodes.values()
            if isinstance(node, DictConfig) and not node._is_none() and "_target_" in node]


def flat_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as flat ``a/b/c → value`` pairs, so dashboards can filter and compare runs by any key."""
    container = OmegaConf.to_container(cfg, resolve=True)
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}/{key}" if prefix else str(key))
        elif isinstance(node, list) and any(isinstance(v, (dict, list)) for v in node):
            for i, value in enumerate(node):
                walk(value, f"{prefix}/{i}")
        else:
            out[prefix] = node

    walk(container, "")
    return out


def log_run_config(loggers: list[Any], cfg: DictConfig) -> None:
    params = flat_config(cfg)
    for lg in loggers:
        lg.log_hyperparams(params)
