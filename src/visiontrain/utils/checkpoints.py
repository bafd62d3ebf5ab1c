"""Safe checkpoint reading: ``weights_only=True`` always, and only visiontrain LightningModules are rebuilt from one."""

from __future__ import annotations

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


def load_module(path: str | Path, stored_config: dict[str, Any]):
    """Rebuild the LightningModule named in the checkpoint's config. The class must be a visiontrain model:
    a checkpoint never decides on its own which arbitrary code runs."""
    import pytorch_lightning as pl
    from hydra.utils import get_class

    target = str((stored_config.get("model") or {}).get("_target_", ""))
    if not target.startswith("visiontrain.models."):
        raise WeightsError(f"{path}: model class '{target}' is not a visiontrain model; refusing to instantiate it")
    cls = get_class(target)
    if not issubclass(cls, pl.LightningModule):
        raise WeightsError(f"{path}: '{target}' is not a LightningModule")
    return cls.load_from_checkpoint(path, map_location="cpu", weights_only=True)
