"""Fine-tuning YOLO from a checkpoint of this project: the EMA weights carried over, the class branch new when
the classes differ, a file of another scale named."""

import pytest
import torch

from visiontrain.errors import WeightsError
from visiontrain.models.yolo.module import YOLODetector


def _checkpoint(tmp_path, classes, scale="n"):
    source = YOLODetector(class_names=classes, scale=scale)
    with torch.no_grad():  # EMA and training weights apart, so the test sees which one is read
        for p in source.ema.module.parameters():
            p.add_(1.0)
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": source.state_dict(), "hyper_parameters": dict(source.hparams)}, path)
    return source, path


def test_other_classes_keep_everything_but_the_class_branch(tmp_path):
    source, path = _checkpoint(tmp_path, ["a", "b"])
    tuned = YOLODetector(class_names=["x", "y", "z"], weights_path=str(path))
    mine, ema = tuned.net.state_dict(), source.ema.module.state_dict()
    assert torch.equal(mine["backbone.stem.0.0.weight"], ema["backbone.stem.0.0.weight"])
    assert torch.equal(mine["head.box.0.2.weight"], ema["head.box.0.2.weight"])
    assert mine["head.cls.0.2.weight"].shape[0] == 3  # a new class layer for three classes
    assert torch.equal(tuned.ema.module.state_dict()["backbone.stem.0.0.weight"], ema["backbone.stem.0.0.weight"])
    assert tuned.hparams.weights_path is None  # its own checkpoints hold the weights


def test_same_classes_carry_the_class_branch_too(tmp_path):
    source, path = _checkpoint(tmp_path, ["a", "b"])
    tuned = YOLODetector(class_names=["a", "b"], weights_path=str(path))
    assert torch.equal(tuned.net.state_dict()["head.cls.1.2.bias"], source.ema.module.state_dict()["head.cls.1.2.bias"])


def test_a_file_of_another_scale_is_named(tmp_path):
    _, path = _checkpoint(tmp_path, ["a"], scale="s")
    with pytest.raises(WeightsError, match=r"last\.ckpt: tensor backbone\.stem\.0\.0\.weight \(32, 3, 3, 3\) "
                                           r"does not fit the model's \(16, 3, 3, 3\)"):
        YOLODetector(class_names=["a"], scale="n", weights_path=str(path))
