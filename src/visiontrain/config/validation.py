"""Config validation before anything is instantiated or any data is touched.

Every node with a ``_target_`` is checked against the signature of the callable it names: unknown keys, values of the
wrong type and choices outside a ``Literal`` each raise one ConfigError naming the full key and what is valid.
Nested plain mappings whose parameter is annotated with a dataclass are checked field by field; so are the parts
without a ``_target_`` (the top level of each entry point's config, ``paths``: see ``config_schema``). String
parameters whose choices live in a registry rather than a ``Literal`` (Lightning's accelerators and strategies,
a monitor's ``mode``) are checked against it. Then ``combinations`` rejects settings that are each valid but make
no sense together.
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
_FIRST = ("paths", "trainer", "callbacks", "data")  # callbacks before data: data.exact_resume follows a callback key


def validate_config(cfg: DictConfig, sections: Sequence[str] | None = None) -> None:
    """Validate ``cfg``: the top level and all sections, then their combinations; or only the named sections."""
    from visiontrain.config import quick_check

    try:
        _validate(cfg, sections)
    finally:  # what was learnt holds even when a later key is wrong
        quick_check.save()


def _validate(cfg: DictConfig, sections: Sequence[str] | None) -> None:
    from visiontrain.config.schema import ROOTS, SECTIONS

    root = ROOTS.get(str(_config_name(cfg))) if sections is None else None
    if root is not None:
        _check_schema(cfg, "", root, f"the {_config_name(cfg)} config")
    keys = sections if sections is not None else sorted(cfg.keys(), key=lambda k: (k not in _FIRST, _FIRST.index(k)
                                                                                   if k in _FIRST else 0))
    for key in keys:
        if key == "hydra":  # Hydra's own node (present only in composed configs): see _check_hydra_plugins
            continue
        node = cfg.get(key)
        if isinstance(node, DictConfig) and key in SECTIONS and not node._is_none():
            _check_schema(node, f"{key}.", SECTIONS[str(key)], str(key))
        elif isinstance(node, (DictConfig, ListConfig)):
            _walk(node, str(key))
    if sections is None:
        from visiontrain.config.combinations import check_combinations

        _check_hydra_plugins(cfg)
        check_combinations(cfg)


def _config_name(cfg: DictConfig) -> str | None:
    """``train``, ``eval``, … : the entry point's primary config (from Hydra, or a composed ``hydra`` node)."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return HydraConfig.get().job.config_name
    return OmegaConf.select(cfg, "hydra.job.config_name", default=None)


def _hydra_node(cfg: DictConfig) -> Any:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else cfg.get("hydra")


def _check_hydra_plugins(cfg: DictConfig) -> None:
    """``hydra.launcher`` / ``hydra.sweeper`` (groups launcher, hparams_search) against the dataclass their plugin
    registered in Hydra's ConfigStore: a ``+`` override can add any key there, which the plugin would only reject
    later, in its own words (or not at all)."""
    from hydra.core.config_store import ConfigStore

    hydra_cfg = _hydra_node(cfg)
    choices = OmegaConf.select(hydra_cfg, "runtime.choices", default=None) if hydra_cfg is not None else None
    for group in ("launcher", "sweeper"):
        node, choice = hydra_cfg.get(group) if choices else None, (choices or {}).get(f"hydra/{group}")
        if not isinstance(node, DictConfig) or not choice:
            continue
        try:
            schema = ConfigStore.instance().load(f"hydra/{group}/{choice}.yaml").node._metadata.object_type
        except Exception:  # not a registered structured config: nothing to compare with
            continue
        if not dataclasses.is_dataclass(schema):
            continue
        fields = [f.name for f in dataclasses.fields(schema) if f.name not in _HYDRA_KEYS]
        for key in map(str, node.keys()):
            if key not in fields and key not in _HYDRA_KEYS and key != "defaults":
                raise ConfigError(_unknown_key(f"hydra.{group}.{key}", key, fields, schema.__name__))
        if group == "sweeper" and "direction" in node:
            _check_direction(node)
        for key in ("sampler", "pruner") if group == "sweeper" else ():  # Optuna classes (vt_optuna sweeper)
            child = node.get(key) if key in fields else None
            if isinstance(child, DictConfig) and not child._is_none() and "_target_" in child:
                _check_target(child, f"hydra.{group}.{key}")


def _check_direction(node: DictConfig) -> None:
    try:
        value = node.direction
        value = OmegaConf.to_container(value, resolve=True) if isinstance(value, ListConfig) else value
    except Exception:  # an interpolation only a running sweep resolves
        return
    valid = ["minimize", "maximize"]
    for item in value if isinstance(value, list) else [value]:
        if str(getattr(item, "name", item)) not in valid:
            raise ConfigError(f"hydra.sweeper.direction: {item!r} is not a valid choice; valid choices: "
                              f"{', '.join(valid)}")


def _check_schema(node: DictConfig, prefix: str, schema: type, what: str) -> None:
    fields = [f.name for f in dataclasses.fields(schema)]
    hints = typing.get_type_hints(schema)
    for key in map(str, node.keys()):
        full = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(_unknown_key(full, key, fields, what))
        if hints[key] is Any:
            continue
        if OmegaConf.is_missing(node, key):
            raise ConfigError(f"{full}: a value is required ('???' was not replaced)")
        child = node._get_node(key)
        source = child._value() if child._is_interpolation() else None
        _check_value(f"{full} (set through {source})" if source else full, _plain(child), hints[key])


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
        return obj, _forwarded(obj, inspect.signature(obj))
    except (TypeError, ValueError):  # builtins without a signature: nothing to check
        return obj, None


def _forwarded(obj: Any, sig: inspect.Signature) -> inspect.Signature:
    """A visiontrain class whose ``__init__`` takes ``**shared`` passes them on to its base class (the datamodules
    to VisionDataModule): its keys are the union down the chain, so a wrong key is still named."""
    params = dict(sig.parameters)
    cls = obj
    while (inspect.isclass(cls) and cls.__module__.startswith("visiontrain.")
           and any(p.kind == p.VAR_KEYWORD for p in params.values())):
        base = next((b for b in cls.__mro__[1:] if "__init__" in vars(b)), None)
        if base is None or base is object:
            break
        inherited = inspect.signature(base.__init__).parameters
        params = {n: p for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        for name, p in list(inherited.items())[1:]:  # (self)
            if name not in params:
                params[name] = p.replace(kind=p.KEYWORD_ONLY) if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) else p
        cls = base
    ordered = sorted(params.values(), key=lambda p: p.kind)  # a valid Signature: positional, *args, keyword, **kw
    return sig.replace(parameters=ordered)


def _type_hints(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj) and obj.__module__.startswith("visiontrain."):  # the bases' too: keys forwarded to them
        # (see _forwarded) keep their types; other libraries' classes are read as before (no walk of deep MROs)
        out: dict[str, Any] = {}
        for cls in reversed([c for c in obj.__mro__ if "__init__" in vars(c) and c is not object]):
            out.update(_hints_of(cls.__init__))
        return out
    return _hints_of(obj.__init__ if inspect.isclass(obj) else obj)


def _hints_of(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # one unresolvable forward reference (WandbLogger's 'Run'): resolve the others one by one
        out = {}
        for name, annotation in getattr(fn, "__annotations__", {}).items():
            holder = types.SimpleNamespace(__annotations__={name: annotation})
            try:
                out.update(typing.get_type_hints(holder, globalns=getattr(fn, "__globals__", {})))
            except Exception:
                continue
        return out


def _check_target(node: DictConfig, path: str) -> None:
    target = node._get_node("_target_")._value()
    obj, sig = _signature_of(str(target), path)
    if sig is None:
        return
    params = sig.parameters
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    hints = _type_hints(obj)
    valid = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    _record(str(target), obj, valid, accepts_any, hints)  # first: a wrong key below is the next run's answer
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
        _check_registry_choice(full, obj, key, value)


def _record(target: str, obj: Any, valid: list[str], accepts_any: bool, hints: dict[str, Any]) -> None:
    """Hand ``quick_check`` what the next run needs to answer unknown keys and wrong choices without importing."""
    from visiontrain.config import quick_check

    files = {f for f in (_source_file(obj),) if f}
    choices = {k: c for k in valid if (c := _closed_choices(hints.get(k))) is not None}
    registry = {k: c for k in ("accelerator", "strategy", "mode") if k in valid
                and (c := _registry_choices(obj, k)) is not None}
    fields = {}
    for key in valid:
        annotation = hints.get(key)
        for option in (annotation, *(_args(annotation) if _is_union(annotation) else ())):
            if dataclasses.is_dataclass(option):
                field_hints = typing.get_type_hints(option)
                fields[key] = (option.__name__, {f.name: _closed_choices(field_hints.get(f.name))
                                                 for f in dataclasses.fields(option)})
                files.add(_source_file(option))
                break
    quick_check.record(target, valid, accepts_any, choices, registry, fields, {f for f in files if f})


def _source_file(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj))
    except TypeError:  # builtins
        return None


def _closed_choices(annotation: Any) -> list | None:
    """The values of a ``Literal`` (optionally ``| None``): a closed set a quick check can test; else None."""
    if typing.get_origin(annotation) is Literal:
        return list(_args(annotation))
    if _is_union(annotation):
        members = [a for a in _args(annotation) if a is not type(None)]
        if members and all(typing.get_origin(a) is Literal for a in members):
            return [c for a in members for c in _args(a)]
    return None


def _registry_choices(obj: Any, key: str) -> list[str] | None:
    """Choices of a ``str`` parameter that Lightning keeps in a registry (or documents) instead of a Literal."""
    import pytorch_lightning as pl

    if not inspect.isclass(obj):
        return None
    if issubclass(obj, pl.Trainer) and key == "accelerator":
        from pytorch_lightning.accelerators import AcceleratorRegistry

        return sorted({*AcceleratorRegistry.available_accelerators(), "gpu", "auto"})
    if issubclass(obj, pl.Trainer) and key == "strategy":
        from pytorch_lightning.strategies import StrategyRegistry

        return sorted({*StrategyRegistry.available_strategies(), "auto"})
    if issubclass(obj, (pl.callbacks.ModelCheckpoint, pl.callbacks.EarlyStopping)) and key == "mode":
        return ["max", "min"]
    return None


def _check_registry_choice(full: str, obj: Any, key: str, value: Any) -> None:
    if not isinstance(value, str):
        return
    choices = _registry_choices(obj, key)
    if choices is not None and value not in choices:
        raise ConfigError(f"{full}: {value!r} is not a valid choice; valid choices: {', '.join(choices)}")


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
