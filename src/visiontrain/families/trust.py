"""Which code a checkpoint may name: visiontrain's own classes, and the packages the user trusts.

A checkpoint alone never decides which code runs. The user trusts a package with the ``trusted_modules`` key of
the entry point's config (``trusted_modules=[mypkg]``) or ``VT_TRUSTED_MODULES=mypkg,other``; classes under a
trusted package (``mypkg`` or ``mypkg.models.x``) are then rebuilt from checkpoints like visiontrain's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

ENV = "VT_TRUSTED_MODULES"
BUILTIN = ("visiontrain",)


def trusted_modules(configured: Iterable[str] | str | None = None) -> tuple[str, ...]:
    """visiontrain + the config's ``trusted_modules`` + ``$VT_TRUSTED_MODULES`` (comma-separated)."""
    if isinstance(configured, str):
        configured = configured.split(",")
    names = [*BUILTIN, *(configured or ()), *os.environ.get(ENV, "").split(",")]
    return tuple(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))


def is_trusted(target: str, trusted: Iterable[str]) -> bool:
    return any(target == t or target.startswith(f"{t}.") for t in trusted)


def how_to_trust(target: str) -> str:
    package = target.split(".")[0] or target
    return f"trust its package with trusted_modules=[{package}] or {ENV}={package}"
