"""Modules moved out of ``utils/`` (and shared family code out of family folders) keep their old import paths:
user code and Hydra configs written before the move still resolve, with a warning naming the new path."""

import importlib
import warnings

import pytest
from hydra.utils import get_class

from visiontrain._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_is_the_new_module(old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert any(MOVED[old] in str(w.message) for w in caught if w.category is DeprecationWarning)


def test_a_config_target_with_an_old_path_still_resolves():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cls = get_class("visiontrain.utils.writable.CheckRunDirWritable")
    from visiontrain.run.writable import CheckRunDirWritable

    assert cls is CheckRunDirWritable


def test_no_family_imports_another_familys_module():
    """Shared code lives in models/shared (and the packages outside models/): family folders import only it."""
    import re
    from pathlib import Path

    models = Path(importlib.import_module("visiontrain.models").__file__).parent
    families = [p.name for p in models.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "shared"]
    crossing = []
    for family in families:
        for file in (models / family).rglob("*.py"):
            for other in re.findall(r"visiontrain\.models\.(\w+)", file.read_text()):
                if other in families and other != family:
                    crossing.append(f"{file.relative_to(models)} -> {other}")
    assert families and not crossing
