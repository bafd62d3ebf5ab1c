"""ObjectLocalizer keeps the classifier's setup() guards: class mismatch, 'apply' refused at fit, the backbone frozen
before DDP wraps the model, find_unused_parameters for warm-up (single process and 2-process DDP on CPU)."""

import json
import os

import pytest

from helpers import run_cli
from visiontrain.errors import ConfigError, DataError
from visiontrain.models.classification.localization import ObjectLocalizer

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_class_mismatch_is_refused(monkeypatch):
    model = ObjectLocalizer(class_names=["circle", "square"])
    monkeypatch.setattr(model, "_data_class_names", lambda: ["circle", "star"])
    with pytest.raises(DataError, match="differ from the model's"):
        model.setup("fit")
    with pytest.raises(DataError, match="differ from the model's"):
        model.setup("test")  # no by-name remapping for a box head


def test_apply_is_refused_at_fit(monkeypatch):
    model = ObjectLocalizer(class_names=["circle", "square"], transfer={"mode": "apply"})
    monkeypatch.setattr(model, "_data_class_names", lambda: ["circle", "square"])
    with pytest.raises(ConfigError, match="'apply' does not train"):
        model.setup("fit")


def test_no_classes_anywhere_is_a_config_error(monkeypatch):
    model = ObjectLocalizer()
    monkeypatch.setattr(model, "_data_class_names", lambda: None)
    with pytest.raises(ConfigError, match="model.class_names"):
        model.setup("fit")


def _run(tmp_path, trainer: str, mode: str):
    snap = tmp_path / "snap"
    proc = run_cli("train", [
        "experiment=localize_shapes", f"trainer={trainer}", "logger=none", "trainer.max_epochs=2",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.num_sanity_val_steps=0",
        "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null", "test=false",
        "data.source.count=60", "data.batch_size=8", f"paths.data_dir={tmp_path}/data",
        f"model.transfer.mode={mode}", "model.transfer.warmup_epochs=1",
        "+callbacks.snapshots._target_=snapshot_callback.BackboneSnapshots", f"+callbacks.snapshots.out_dir={snap}",
    ], cwd=tmp_path, timeout=400, env={"PYTHONPATH": TESTS_DIR})
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = sorted(snap.glob("snapshots_rank*.json"))
    return [json.loads(p.read_text()) for p in ranks]


@pytest.mark.parametrize("trainer", ["cpu", "ddp_cpu"])
@pytest.mark.parametrize("mode", ["warmup", "frozen"])
def test_localizer_transfer_modes(tmp_path, trainer, mode):
    ranks = _run(tmp_path, trainer, mode)
    assert len(ranks) == (2 if trainer == "ddp_cpu" else 1)
    for snaps in ranks:
        e0_start, e0_end, e1_start, e1_end = snaps
        assert e0_start["backbone"] == e0_end["backbone"]  # frozen in epoch 0 (both modes)
        assert e0_start["head"] != e0_end["head"]
        if mode == "frozen":
            assert e1_start["backbone"] == e1_end["backbone"] and not e1_end["requires_grad"]
        else:
            assert e1_start["backbone"] != e1_end["backbone"]  # trains from epoch 1
    assert all([(r["backbone"], r["head"]) for r in snaps] == [(r["backbone"], r["head"]) for r in ranks[0]]
               for snaps in ranks)  # the ranks stay in sync
