"""Safe checkpoint reading: ``weights_only=True`` always, and only trusted LightningModules are rebuilt from one
(visiontrain's own, and classes of the packages named in ``trusted_modules`` / ``$VT_TRUSTED_MODULES``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from visiontrain.errors import WeightsError

CONFIG_KEY = "visiontrain_config"


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: checkpoint file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise WeightsError(f"{path}: refused to load: it holds objects other than tensors and plain data ({first})")
    except (RuntimeError, EOFError, OSError) as exc:
        raise WeightsError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})")


def check_loadable(path: str | Path) -> None:
    """What ``fit(ckpt_path=…, weights_only=True)`` will meet, found first as the same one-line refusal
    ``load_checkpoint`` gives (memory-mapped: the tensors are not read)."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: checkpoint file not found")
    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise WeightsError(f"{path}: refused to load: it holds objects other than tensors and plain data ({first})")
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})")


def read_stored_config(path: str | Path) -> dict[str, Any]:
    return load_checkpoint(path).get(CONFIG_KEY) or {}


def trusted_class(path: str | Path, target: str, trusted: Iterable[str] | str | None, what: str) -> type:
    """The class ``target`` names, once it is known to be visiontrain's or under a trusted package."""
    from hydra.utils import get_class

    from visiontrain.families.trust import how_to_trust, is_trusted, trusted_modules

    if not target:
        raise WeightsError(f"{path}: the checkpoint names no {what} class (no visiontrain_config.{what}._target_)")
    if not is_trusted(target, trusted_modules(trusted)):
        raise WeightsError(f"{path}: {what} class '{target}' is outside visiontrain and not trusted; refusing to "
                           f"instantiate it ({how_to_trust(target)})")
    try:
        return get_class(target)
    except Exception as exc:  # ImportError, AttributeError: moved or not installed
        raise WeightsError(f"{path}: cannot import {what} class '{target}' ({type(exc).__name__})") from None


def load_module(path: str | Path, stored_config: dict[str, Any], trusted: Iterable[str] | str | None = None):
    """Rebuild the LightningModule named in the checkpoint's config: a checkpoint never decides on its own which
    arbitrary code runs (``trusted``: the entry point's ``trusted_modules``)."""
    import pytorch_lightning as pl

    target = str((stored_config.get("model") or {}).get("_target_", ""))
    cls = trusted_class(path, target, trusted, "model")
    if not issubclass(cls, pl.LightningModule):
        raise WeightsError(f"{path}: '{target}' is not a LightningModule")
    return cls.load_from_checkpoint(path, map_location="cpu", weights_only=True)


def check_stored_targets(path: str | Path, node: Any, trusted: Iterable[str] | str | None, key: str,
                         allowed: tuple[str, ...] = ("albumentations",)) -> None:
    """Every ``_target_`` in a stored config node (``data``: the datamodule, its reader, its transforms) must be
    trusted code (or under ``allowed``) before the node is instantiated."""
    from visiontrain.families.trust import how_to_trust, is_trusted, trusted_modules

    names = (*trusted_modules(trusted), *allowed)
    stack: list[tuple[str, Any]] = [(key, node)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            target = item.get("_target_")
            if target is not None and not is_trusted(str(target), names):
                raise WeightsError(f"{path}: {where}._target_ '{target}' is outside visiontrain and not trusted; "
                                   f"refusing to instantiate it from a checkpoint ({how_to_trust(str(target))})")
            stack += [(f"{where}.{k}", v) for k, v in item.items()]
        elif isinstance(item, list):
            stack += [(f"{where}[{i}]", v) for i, v in enumerate(item)]
