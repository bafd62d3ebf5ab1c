"""A config error is answered before the heavy imports: full validation records what it learnt of each target,
and the next run checks unknown keys and wrong choices against that record first (config/quick_check.py)."""

import os
import subprocess
import sys

import pytest

from helpers import compose_cfg
from visiontrain.errors import ConfigError
from visiontrain.config import quick_check
from visiontrain.config.validation import validate_config

MISTAKES = [
    "+model.dropuot=0.1",                 # unknown key of our module
    "+trainer.max_epoch=3",               # unknown key of Lightning's Trainer
    "model.transfer.mode=bogus",          # a Literal field of a dataclass parameter
    "+model.transfer.moed=x",             # an unknown dataclass field
    "trainer.precision=17",               # a Literal of ints and strings
    "trainer.accelerator=tpuu",           # a name from Lightning's registry
    "+data.train_transforms.0.heigth=3",  # an Albumentations transform in a list
    "+model.optimizer.lrr=0.1",           # a nested partial (torch.optim.AdamW)
]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(quick_check, "_recorded", {})
    validate_config(compose_cfg([], tmp_path / "first"))  # a valid run records the quickstart's targets
    return tmp_path / "cache"


def _full_error(cfg) -> str:
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    return str(err.value)


@pytest.mark.parametrize("override", MISTAKES)
def test_the_record_answers_with_full_validations_own_message(cache, tmp_path, override):
    cfg = compose_cfg([override], tmp_path)
    expected = _full_error(cfg)
    with pytest.raises(ConfigError) as err:
        quick_check.quick_check(cfg)
    assert str(err.value) == expected


@pytest.mark.parametrize("override", ["trainer.max_epochs=abc", "data.batch_size=1.5", "model.dropout=0.2"])
def test_what_the_record_cannot_judge_is_left_to_full_validation(cache, tmp_path, override):
    quick_check.quick_check(compose_cfg([override], tmp_path))  # types are not recorded: no verdict, no error


def test_a_record_whose_source_changed_is_not_used(cache, tmp_path):
    import visiontrain.models.classification.module as module

    cfg = compose_cfg(["+model.dropuot=0.1"], tmp_path)
    path = module.__file__
    st = os.stat(path)
    try:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the file was edited since
        quick_check.quick_check(cfg)  # the module's record is stale: ignored
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ConfigError):
        quick_check.quick_check(cfg)


def test_another_source_tree_in_the_same_environment_keeps_its_own_record(cache, tmp_path, monkeypatch):
    """Two checkouts run from one venv (PYTHONPATH): a record written by one tree, whose files did not change, must
    not answer for the other, whose classes may take other keys."""
    cfg = compose_cfg(["+model.dropuot=0.1"], tmp_path)
    with pytest.raises(ConfigError):
        quick_check.quick_check(cfg)  # this tree's record answers
    monkeypatch.setattr(quick_check, "_PACKAGE_DIR", tmp_path / "other_checkout" / "src" / "visiontrain")
    quick_check.quick_check(cfg)  # no record of that tree yet: no verdict (full validation decides)


@pytest.mark.parametrize("overrides, message", [
    (["model.transfer.mode=finetun"], "error: model.transfer.mode: 'finetun' is not a valid choice"),
    # a family that adopts datamodules (YOLO) with its own datamodule already: nothing to import to decide
    (["experiment=det_shapes_yolo", "trainer.precision=17"], "error: trainer.precision: 17 is not a valid choice"),
], ids=["quickstart", "yolo_experiment"])
def test_a_config_error_on_the_command_line_imports_no_torch(tmp_path, overrides, message):
    """The second run with a typo answers without importing torch (``-X importtime`` lists every import)."""
    env = {**os.environ, "VT_CACHE_DIR": str(tmp_path / "cache"), "NO_ALBUMENTATIONS_UPDATE": "1",
           "WANDB_MODE": "offline"}
    runs = []
    for i in range(2):
        runs.append(subprocess.run([sys.executable, "-X", "importtime", "-m", "visiontrain.train",
                                    *overrides, f"hydra.run.dir={tmp_path}/run{i}"],
                                   cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300))
    imported = lambda proc: {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                             if line.startswith("import time:")}
    for proc in runs:
        assert proc.returncode == 1
        assert message in proc.stderr
    assert "torch" in imported(runs[0])  # the first run had to import the module to read its signature
    assert "torch" not in imported(runs[1]) and "pytorch_lightning" not in imported(runs[1])
    assert (tmp_path / "run1" / "metrics.json").read_text().count('"failed"') == 1
