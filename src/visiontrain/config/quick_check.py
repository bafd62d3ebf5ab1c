"""The common config mistakes answered before any heavy import.

Full validation (``validation.validate_config``) reads the signature of every ``_target_``, which imports the class:
torch, Lightning and Albumentations, several seconds before a typo can be reported. Each time it inspects a target
it records here what a check needs without the import — the parameter names, the closed choices (``Literal``
values, Lightning's accelerator and strategy names) and the fields of dataclass parameters — together with the size
and modification time of every source file they came from. The next run checks unknown keys and wrong choices
against that record first, without importing anything (``quick_check``); a record whose files changed is ignored,
and full validation still follows, so the record can only make an error come sooner, never hide or invent one.

One cache file per Python environment and visiontrain source tree: ``$VT_CACHE_DIR`` or
``$XDG_CACHE_HOME/visiontrain`` (``~/.cache/visiontrain``). The tree is part of the key because a record's file
stamps are those of the tree that wrote it: two checkouts run from one environment (``PYTHONPATH``) would otherwise
each trust the other's unchanged files and report keys the other version has not got.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from visiontrain.errors import ConfigError

_FORMAT = 1
_HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_recorded: dict[str, dict] = {}  # recorded by this process's full validation, saved by ``save``


def cache_file() -> Path:
    base = os.environ.get("VT_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "visiontrain"
    # another venv may hold other library versions, another source tree other visiontrain classes
    env = hashlib.sha1(f"{sys.prefix}\0{_PACKAGE_DIR}".encode()).hexdigest()[:12]
    return Path(base) / f"config_signatures-{env}.json"


def _stamp(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}"


def record(target: str, params: list[str], accepts_any: bool, choices: Mapping[str, list],
           registry: Mapping[str, list[str]], fields: Mapping[str, tuple[str, Mapping[str, list | None]]],
           files: set[str]) -> None:
    """What full validation learnt about ``target``: valid keys, closed choices (``Literal`` values; ``registry``:
    names Lightning keeps in a registry), dataclass fields (per parameter: the class name and each field's closed
    choices or None), and the source files it depends on."""
    stamps = {f: s for f in sorted(files) if (s := _stamp(f)) is not None}
    _recorded[target] = {"stamps": stamps, "params": list(params), "accepts_any": accepts_any,
                         "choices": {k: list(v) for k, v in choices.items()},
                         "registry": {k: list(v) for k, v in registry.items()},
                         "fields": {k: [cls, {n: c for n, c in fs.items()}] for k, (cls, fs) in fields.items()}}


def save() -> None:
    """Merge this process's records into the cache file (atomically: sweeps and DDP ranks validate at once)."""
    if not _recorded:
        return
    path = cache_file()
    known = _load(path)
    if all(known.get(t) == r for t, r in _recorded.items()):
        return
    known.update(_recorded)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": _FORMAT, "targets": known}))
        os.replace(tmp, path)
    except OSError:  # a read-only home: the quick check is an optimisation, validation goes on without it
        pass


def _load(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("targets", {}) if isinstance(data, dict) and data.get("format") == _FORMAT else {}


def quick_check(cfg: DictConfig) -> None:
    """Raise the ConfigError full validation would raise for an unknown key or a wrong choice under a recorded
    ``_target_``; say nothing about anything else (full validation follows)."""
    targets = {t: r for t, r in _load(cache_file()).items()
               if all(_stamp(f) == s for f, s in r.get("stamps", {}).items())}
    if targets:
        for key in cfg.keys():
            if key != "hydra":
                _walk(cfg._get_node(key), str(key), targets)


def _walk(node: Any, path: str, targets: dict[str, dict]) -> None:
    if not isinstance(node, (DictConfig, ListConfig)) or node._is_none() or node._is_missing():
        return
    if isinstance(node, ListConfig):
        for i in range(len(node)):
            _walk(node._get_node(i), f"{path}[{i}]", targets)
        return
    if "_target_" in node and not OmegaConf.is_missing(node, "_target_"):
        known = targets.get(str(node._get_node("_target_")._value()))
        if known is not None:
            _check(node, path, known, targets)
            return
    for k in node.keys():
        if not OmegaConf.is_missing(node, k):
            _walk(node._get_node(k), f"{path}.{k}", targets)


def _check(node: DictConfig, path: str, known: dict, targets: dict[str, dict]) -> None:
    from visiontrain.config.validation import _unknown_key

    target = str(node._get_node("_target_")._value())
    for key in map(str, node.keys()):
        if key in _HYDRA_KEYS:
            continue
        full = f"{path}.{key}"
        if key not in known["params"]:
            if known["accepts_any"]:
                continue
            raise ConfigError(_unknown_key(full, key, known["params"], target))
        if OmegaConf.is_missing(node, key):
            continue
        child = node._get_node(key)
        if isinstance(child, (DictConfig, ListConfig)):
            if isinstance(child, DictConfig) and key in known["fields"] and "_target_" not in child:
                _check_fields(full, child, *known["fields"][key])
            else:
                _walk(child, full, targets)
            continue
        try:
            value = child._dereference_node()._value()
        except Exception:  # an interpolation only the run resolves: full validation will say
            continue
        if key in known["choices"]:
            _check_choice(full, value, known["choices"][key])
        registry = known["registry"].get(key)
        if registry is not None and isinstance(value, str) and value not in registry:
            raise ConfigError(f"{full}: {value!r} is not a valid choice; valid choices: {', '.join(registry)}")


def _check_fields(full: str, node: DictConfig, cls: str, fields: dict[str, list | None]) -> None:
    from visiontrain.config.validation import _unknown_key

    for key in map(str, node.keys()):
        if key not in fields:
            raise ConfigError(_unknown_key(f"{full}.{key}", key, list(fields), cls))
        choices = fields[key]
        if choices is not None and not OmegaConf.is_missing(node, key):
            child = node._get_node(key)
            if not isinstance(child, (DictConfig, ListConfig)):
                try:
                    value = child._dereference_node()._value()
                except Exception:  # an interpolation only the run resolves
                    continue
                _check_choice(f"{full}.{key}", value, choices)


def _check_choice(full: str, value: Any, choices: list) -> None:
    if value is None or any(value == c and type(value) is type(c) for c in choices):
        return
    if isinstance(value, int) and str(value) in [str(c) for c in choices]:
        return
    listed = ", ".join(repr(c) for c in choices)
    raise ConfigError(f"{full}: {value!r} is not a valid choice; valid choices: {listed}")
