"""Config validation before anything is instantiated or any data is touched.

Every node with a ``_target_`` is checked against the signature of the callable it names: unknown keys, values of the
wrong type and choices outside a ``Literal`` each raise one ConfigError naming the full key and what is valid.
Nested plain mappings whose parameter is annotated with a dataclass are checked field by field.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

from omegaconf import DictConfig, ListConfig, OmegaConf

from visiontrain.errors import ConfigError

_HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}


# Sections that others interpolate from come first, so an error names the key the user set.
_FIRST = ("paths", "trainer", "data")


def validate_config(cfg: DictConfig, sections: Sequence[str] | None = None) -> None:
    """Validate the instantiable parts of ``cfg`` (all top-level sections, or the named ones)."""
    keys = sections if sections is not None else sorted(cfg.keys(), key=lambda k: (k not in _FIRST, _FIRST.index(k)
                                                                                   if k in _FIRST else 0))
    for key in keys:
        node = cfg.get(key)
        if isinstance(node, (DictConfig, ListConfig)):
            _walk(node, str(key))


def _walk(node: Any, path: str) -> None:
    if isinstance(node, (DictConfig, ListConfig)) and (node._is_none() or node._is_missing()):
        return
    if isinstance(node, DictConfig):
        if "_target_" in node:
            _check_target(node, path)
            return
        for k in node.keys():
            _walk(node._get_node(k) if not OmegaConf.is_missing(node, k) else None, f"{path}.{k}")
    elif isinstance(node, ListConfig):
        for i, item in enumerate(node):
            _walk(item, f"{path}[{i}]")


def _signature_of(target: str, path: str) -> tuple[Any, inspect.Signature | None]:
    from hydra.utils import get_object

    try:
        obj = get_object(target)
    except Exception as exc:  # ImportError, AttributeError
        raise ConfigError(f"{path}._target_: cannot import '{target}' ({type(exc).__name__})") from None
    try:
        return obj, inspect.signature(obj)
    except (TypeError, ValueError):  # builtins without a signature: nothing to check
        return obj, None


def _type_hints(obj: Any) -> dict[str, Any]:
    fn = obj.__init__ if inspect.isclass(obj) else obj
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: skip type checks, keep key checks
        return {}


def _check_target(node: DictConfig, path: str) -> None:
    target = node._get_node("_target_")._value()
    obj, sig = _signature_of(str(target), path)
    if sig is None:
        return
    params = sig.parameters
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    hints = _type_hints(obj)
    valid = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    for key in node.keys():
        key = str(key)
        if key in _HYDRA_KEYS:
            continue
        full = f"{path}.{key}"
        if key not in params:
            if accepts_any:
                continue
            raise ConfigError(_unknown_key(full, key, valid, target))
        if OmegaConf.is_missing(node, key):
            raise ConfigError(f"{full}: a value is required ('???' was not replaced)")
        child = node._get_node(key)
        value = _plain(child)
        if isinstance(child, DictConfig) and not child._is_none() and "_target_" in child:
            _check_target(child, full)
            continue
        if isinstance(child, ListConfig):
            _walk(child, full)
        source = child._value() if child._is_interpolation() else None
        _check_value(f"{full} (set through {source})" if source else full, value, hints.get(key))


def _plain(child: Any) -> Any:
    if isinstance(child, (DictConfig, ListConfig)):
        return OmegaConf.to_container(child, resolve=True)
    return child._dereference_node()._value() if hasattr(child, "_dereference_node") else child


def _unknown_key(full: str, key: str, valid: list[str], target: str) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"{full}: unknown key for {target}.{hint} Valid keys: {', '.join(valid)}"


def _check_value(full: str, value: Any, annotation: Any) -> None:
    if annotation is None or value is None and _allows_none(annotation):
        return
    if isinstance(value, Mapping):
        for option in (annotation, *(_args(annotation) if _is_union(annotation) else ())):
            if dataclasses.is_dataclass(option):
                _check_dataclass(full, value, option)
                return
    verdict = _matches(value, annotation)
    if verdict is False:
        choices = _literal_choices(annotation)
        if choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{full}: {value!r} is not a valid choice; valid choices: {listed}")
        raise ConfigError(f"{full}: expected {_describe(annotation)}, got {type(value).__name__} {value!r}")


def _check_dataclass(full: str, value: Mapping, cls: type) -> None:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, item in value.items():
        if key not in fields:
            raise ConfigError(_unknown_key(f"{full}.{key}", key, list(fields), cls.__name__))
        _check_value(f"{full}.{key}", item, hints.get(key))


def _args(annotation: Any) -> tuple:
    return typing.get_args(annotation)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType)


def _allows_none(annotation: Any) -> bool:
    if annotation is type(None) or annotation is Any:
        return True
    return _is_union(annotation) and any(_allows_none(a) for a in _args(annotation))


def _literal_choices(annotation: Any) -> list:
    if typing.get_origin(annotation) is Literal:
        return list(_args(annotation))
    if _is_union(annotation):
        out: list = []
        for a in _args(annotation):
            out += _literal_choices(a)
        return out
    return []


def _matches(value: Any, annotation: Any) -> bool | None:
    """True/False when the annotation is checkable, None when it is not (classes, callables, generics)."""
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return any(value == c and type(value) is type(c) for c in _args(annotation)) or (
            isinstance(value, int) and str(value) in [str(c) for c in _args(annotation)]
        )
    if _is_union(annotation):
        results = [_matches(value, a) for a in _args(annotation)]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin in (list, tuple, Sequence) or annotation in (list, tuple):
        if isinstance(value, str):
            return False
        return isinstance(value, (list, tuple)) or None
    if origin in (dict, Mapping) or annotation is dict:
        return isinstance(value, Mapping) or None
    return None


def _describe(annotation: Any) -> str:
    if _is_union(annotation):
        return " or ".join(_describe(a) for a in _args(annotation))
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))
