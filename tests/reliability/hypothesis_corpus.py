"""Shared by the property tests (``property_*.py``): hypothesis profiles and the property every reader must keep.

Each test generates a valid dataset, applies one mutation (or none) and reads it. The property: the reader yields
exactly the objects the valid part describes, or raises a one-line DataError that names a file of the dataset; any
other exception, a multi-line message, or objects lost without a note or a count fails the test.

Profiles (``HYPOTHESIS_PROFILE``): ``default`` (the fast suite), ``ci`` (fewer cases), ``thorough`` (a long hunt).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

from visiontrain.errors import DataError

_COMMON = {"deadline": None, "derandomize": False, "suppress_health_check": [HealthCheck.too_slow],
           "database": None}
settings.register_profile("default", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=12, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SAME = "same"  # the mutation changes nothing the reader may lose: exactly the valid objects come back
ERROR = "error"  # the mutation breaks the data: a one-line DataError naming a file
CASES: dict[str, int] = {}  # test name → examples run (printed by the report fixture)


@contextmanager
def scratch():
    """A fresh folder per generated example (pytest's tmp_path is one per test, not per example)."""
    path = Path(tempfile.mkdtemp(prefix="vt-prop-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def outcome(read, root: Path):
    """("ok", result) or ("error", message); only DataError is an accepted failure, and it is one line naming a
    path under ``root``."""
    try:
        return "ok", read()
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert str(root) in message, f"the error names no file of the dataset: {message}"
        return "error", message


def check(kind: str, expect: str, got: tuple, expected_objects, objects_of) -> None:
    CASES[kind] = CASES.get(kind, 0) + 1
    status, value = got
    if expect == ERROR:
        assert status == "error", f"a broken dataset was read without complaint: {objects_of(value)}"
        return
    assert status == "ok", f"a valid dataset was refused: {value}"
    assert objects_of(value) == expected_objects
