"""model.compile=true: the network is torch.compile'd in place for training; checkpoints keep the plain parameter
names, so the run's checkpoint and weights file load, evaluate and predict as an uncompiled run's do."""

import json

import pytest
import torch

from helpers import FAST, compose_cfg
from visiontrain.errors import ConfigError
from visiontrain.models.classification.module import ImageClassifier
from visiontrain.models.compile import compile_for_training
from visiontrain.train import train
from visiontrain.weights.checkpoints import load_checkpoint, load_module
from visiontrain.run.job import run_job


def test_compile_is_in_place_and_for_training_only():
    module = ImageClassifier(class_names=["a", "b"], compile=True)
    before = set(module.state_dict())
    compile_for_training(module, "validate", module.backbone, module.head)
    assert module.backbone._compiled_call_impl is None  # evaluation, prediction, export: plain
    compile_for_training(module, "fit", module.backbone, module.head)
    assert module.backbone._compiled_call_impl is not None and module.head._compiled_call_impl is not None
    assert set(module.state_dict()) == before  # the checkpoint's names do not change


@pytest.mark.slow  # inductor compiles forward and backward on CPU: about 90 s on 2 cores
def test_compiled_training_writes_plain_checkpoints(tmp_path):
    cfg = compose_cfg([*FAST, "data.image_size=16", "trainer.limit_train_batches=2", "model.compile=true"], tmp_path)
    run_job(cfg, train)
    run = tmp_path / "run"
    record = json.loads((run / "metrics.json").read_text())
    assert record["status"] == "finished", record.get("error")
    state = load_checkpoint(run / "checkpoints" / "last.ckpt")["state_dict"]
    assert state and not any("_orig_mod" in k for k in state)
    plain = ImageClassifier(class_names=[str(i) for i in range(10)])
    assert set(state) == set(plain.state_dict())
    module = load_module(run / "checkpoints" / "weights.pt", load_checkpoint(run / "checkpoints" / "weights.pt")
                         ["visiontrain_config"])
    assert getattr(module.backbone, "_compiled_call_impl", None) is None  # loading for use compiles nothing
    module.eval()
    with torch.no_grad():
        assert module(torch.rand(2, 3, 16, 16)).shape == (2, 10)


def test_compile_without_a_compiler_is_one_line(monkeypatch):
    from visiontrain.models import compile as compile_mod

    monkeypatch.setattr(compile_mod.shutil, "which", lambda name: None)
    module = ImageClassifier(class_names=["a", "b"], compile=True)
    with pytest.raises(ConfigError, match=r"^model.compile: torch.compile on CPU needs a C\+\+ compiler"):
        compile_mod.compile_for_training(module, "fit", module.backbone)
