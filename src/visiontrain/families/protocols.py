"""What `vt-predict` and `vt-export` need from a LightningModule, as typing.Protocols, checked once here.

A module (a user's own included) offers one of each pair:

- predictions: ``prediction_writer(out_dir, files, root, options)`` returning a
  ``visiontrain.families.predictions.PredictionWriter`` (with a ``predict_step``), or ``write_stored_predictions(out_dir,
  stored_config)`` when the result lives in the checkpoint itself (style transfer);
- export: ``export_model()`` returning an ``nn.Module`` (images in [0, 1], NCHW → one tensor), or ``export_to(fmt,
  path, opset, atol, rtol)`` for a family that exports and checks itself (detectors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, Sequence, runtime_checkable

from visiontrain.errors import ConfigError


@runtime_checkable
class PredictsFiles(Protocol):
    def predict_step(self, batch: Any, batch_idx: int) -> Any: ...

    def prediction_writer(self, out_dir: str | Path, files: Sequence[Path], root: Path,
                          options: dict[str, Any]) -> Any: ...


@runtime_checkable
class PredictsStored(Protocol):
    def write_stored_predictions(self, out_dir: str | Path, stored_config: dict[str, Any]) -> dict[str, Any]: ...


@runtime_checkable
class ExportsModel(Protocol):
    def export_model(self) -> Any: ...


@runtime_checkable
class ExportsItself(Protocol):
    def export_to(self, fmt: str, path: Path, opset: int, atol: float, rtol: float) -> dict[str, float]: ...


def defines(module: Any, name: str) -> bool:
    """Defined by the module's own class (or the class itself), not only by LightningModule, whose predict_step and
    test_step exist on every module."""
    import pytorch_lightning as pl

    impl = getattr(module if isinstance(module, type) else type(module), name, None)
    return impl is not None and impl is not getattr(pl.LightningModule, name, None)


def prediction_kind(module: Any) -> Literal["files", "stored"]:
    if isinstance(module, PredictsStored):
        return "stored"
    if isinstance(module, PredictsFiles) and defines(module, "predict_step"):
        return "files"
    missing = [m for m in ("predict_step", "prediction_writer") if not defines(module, m)]
    raise ConfigError(f"ckpt_path: {type(module).__qualname__} cannot predict: it defines no {' or '.join(missing)} "
                      "(see visiontrain.families.protocols.PredictsFiles, docs/extending.md)")


def export_kind(module: Any) -> Literal["model", "custom"]:
    if isinstance(module, ExportsItself):
        return "custom"
    if isinstance(module, ExportsModel):
        return "model"
    raise ConfigError(f"ckpt_path: {type(module).__qualname__} cannot be exported: it defines no export_model() "
                      "(see visiontrain.families.protocols.ExportsModel, docs/extending.md)")
