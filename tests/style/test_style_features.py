"""The feature network: paper layer names, truncation, pooling, weights files, one-line errors."""

import pytest
import torch
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.style.features import build_feature_extractor, vgg_layer_names

STYLE = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]


def test_vgg19_paper_names():
    names = vgg_layer_names("E", batch_norm=False)
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert "conv4_2" in names and "conv5_4" in names and names[-1] == "pool5"
    assert len(names) == 37  # torchvision vgg19().features has 37 modules


def test_extractor_returns_named_layers_and_stops_at_the_deepest():
    ext = build_feature_extractor("vgg19", {"model.content_layers": ["conv4_2"], "model.style_layers": STYLE[:2]})
    out = ext(torch.rand(1, 3, 32, 32))
    assert set(out) == {"conv4_2", "conv1_1", "conv2_1"}
    assert out["conv1_1"].shape == (1, 64, 32, 32) and out["conv4_2"].shape == (1, 512, 4, 4)
    assert len(ext.net) == vgg_layer_names("E", False).index("conv4_2") + 1
    assert not any(isinstance(m, nn.ReLU) and m.inplace for m in ext.net)  # kept conv outputs stay intact
    assert not any(p.requires_grad for p in ext.parameters())
    ext.train()
    assert not ext.training


def test_channels_last_extractor_gives_the_same_features():
    torch.manual_seed(0)
    ext = build_feature_extractor("vgg19", {"model.content_layers": ["conv4_2"], "model.style_layers": STYLE})
    x = torch.rand(1, 3, 40, 48)
    plain = ext.use_channels_last(False)(x)
    nhwc = ext.use_channels_last(True)(x)
    assert nhwc["conv1_1"].is_contiguous(memory_format=torch.channels_last)
    for name in plain:
        assert torch.allclose(plain[name], nhwc[name], rtol=1e-4, atol=1e-5), name


def test_avg_pooling_replaces_max_pooling():
    ext = build_feature_extractor("vgg19", {"model.style_layers": STYLE}, pooling="avg")
    assert any(isinstance(m, nn.AvgPool2d) for m in ext.net)
    assert not any(isinstance(m, nn.MaxPool2d) for m in ext.net)


def test_unknown_layer_is_one_line_naming_the_key_and_the_valid_names():
    with pytest.raises(ConfigError) as err:
        build_feature_extractor("vgg19", {"model.content_layers": ["conv4_2"], "model.style_layers": ["conv6_1"]})
    message = str(err.value)
    assert message.startswith("model.style_layers: vgg19 has no layer 'conv6_1'")
    assert "conv5_1" in message and "relu4_2" in message and "\n" not in message


def test_other_torchvision_classifiers_use_fx_node_names():
    ext = build_feature_extractor("resnet18", {"model.content_layers": ["layer3"], "model.style_layers": ["layer1"]})
    out = ext(torch.rand(1, 3, 64, 64))
    assert out["layer1"].shape[1] == 64 and out["layer3"].shape[1] == 256
    with pytest.raises(ConfigError, match="model.style_layers: resnet18 has no layer 'conv1_1'.*layer1"):
        build_feature_extractor("resnet18", {"model.style_layers": ["conv1_1"]})


def test_weights_from_a_torchvision_state_dict_and_a_visiontrain_checkpoint(tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    torch.manual_seed(1)
    source = make_layers(cfgs["A"])
    state = {f"features.{k}": v for k, v in source.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # heads are ignored
    torch.save(state, tmp_path / "vgg11.pth")
    ext = build_feature_extractor("vgg11", {"model.style_layers": ["conv1_1"]}, weights_path=str(tmp_path / "vgg11.pth"))
    assert torch.equal(ext.net[0].weight, source[0].weight)

    ckpt = {"state_dict": {f"backbone.{k}": v for k, v in state.items()}, "hyper_parameters": {"backbone": "vgg11"}}
    torch.save(ckpt, tmp_path / "classifier.ckpt")
    ext = build_feature_extractor("vgg11", {"model.style_layers": ["conv1_1"]},
                                  weights_path=str(tmp_path / "classifier.ckpt"))
    assert torch.equal(ext.net[0].weight, source[0].weight)
    with pytest.raises(ConfigError, match="holds a 'vgg11' classifier; set model.network=vgg11"):
        build_feature_extractor("vgg13", {"model.style_layers": ["conv1_1"]},
                                weights_path=str(tmp_path / "classifier.ckpt"))


def test_bad_weights_name_lists_the_choices_without_downloading():
    with pytest.raises(ConfigError, match="model.weights: 'IMAGENET' is not a weights name of vgg19.*IMAGENET1K_V1"):
        build_feature_extractor("vgg19", {"model.style_layers": ["conv1_1"]}, weights="IMAGENET")
