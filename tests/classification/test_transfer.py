"""Weights from local files, the apply mode on another dataset (classes mapped by name), safe loading."""

import json

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from helpers import FAST, compose_cfg
from visiontrain.errors import ConfigError, WeightsError
from visiontrain.eval import evaluate
from visiontrain.models.shared.backbones import create_backbone
from visiontrain.models.classification.module import ImageClassifier
from visiontrain.models.shared.backbone_weights import load_backbone_weights
from visiontrain.train import train
from visiontrain.weights.checkpoints import load_checkpoint
from visiontrain.run.job import run_job


@pytest.fixture(scope="module")
def digits_ckpt(tmp_path_factory):
    """A digits classifier trained for 3 short epochs (accurate enough to tell a right class mapping from a wrong one)."""
    tmp = tmp_path_factory.mktemp("digits")
    overrides = [*FAST, "trainer.max_epochs=3", "trainer.limit_train_batches=null", "trainer.limit_val_batches=null"]
    run_job(compose_cfg(overrides, tmp), train)
    return json.loads((tmp / "run" / "metrics.json").read_text())["best_model_path"]


def test_backbone_from_visiontrain_checkpoint_loads_every_tensor(digits_ckpt):
    backbone = create_backbone("small_cnn").features
    counts = load_backbone_weights(backbone, digits_ckpt)
    assert counts["matched"] == len(backbone.state_dict()) and counts["missing"] == 0
    saved = load_checkpoint(digits_ckpt)["state_dict"]
    assert torch.equal(backbone.state_dict()["features.0.0.weight"], saved["backbone.features.0.0.weight"])


def test_backbone_from_plain_torchvision_state_dict_expects_head_mismatch(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(num_classes=1000).state_dict(), path)
    backbone = create_backbone("resnet18").features
    counts = load_backbone_weights(backbone, str(path))
    assert counts["missing"] == 0 and counts["unexpected"] == 2  # fc.weight, fc.bias: the head is new


def test_weights_file_that_matches_nothing_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"foo.weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match="no tensor matches the backbone"):
        load_backbone_weights(create_backbone("small_cnn").features, str(path))


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned-by-checkpoint",))


def test_pickle_payload_in_checkpoint_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "extra": _Payload()}, path)
    with pytest.raises(WeightsError, match="refused to load"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned-by-checkpoint").exists()


def test_scratch_with_weights_is_a_config_error():
    with pytest.raises(ConfigError, match="model.transfer.mode: 'scratch'"):
        ImageClassifier(weights_path="x.ckpt", transfer={"mode": "scratch"})


def test_apply_on_another_dataset_maps_classes_by_name(tmp_path, digits_ckpt):
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = tmp_path / "subset"
    for label in (7, 3):  # two of the ten classes, written as a user's ImageFolder
        (root / str(label)).mkdir(parents=True)
        for i in np.flatnonzero(digits.target == label)[:40]:
            Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).save(root / str(label) / f"{i}.png")
    cfg = compose_cfg([f"ckpt_path={digits_ckpt}", "logger=none", "data=image_folder", f"data.source.root={root}",
                       "data.image_size=32", "data.val_fraction=0.0", "data.test_fraction=0.5"],
                      tmp_path, config_name="eval")
    run_job(cfg, evaluate)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # folder classes are ["3", "7"] (indices 0, 1); the model's are "0".."9": a mapping by index would score ~0
    assert record["metrics"]["test/acc"] >= 0.9
