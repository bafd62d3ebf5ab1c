"""U-Net variants keep the input size; the ResNet U-Net rebuilds from a checkpoint without fetching weights."""

import pytest
import torch

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.module import SemanticSegmenter
from visiontrain.models.segmentation.resnet_unet import EncoderConfig, ResNetUNet
from visiontrain.models.shared.unet import UNet


@pytest.mark.parametrize("bilinear", [False, True])
@pytest.mark.parametrize("norm", ["batch", "instance", "group", "none"])
def test_unet_output_matches_input_size_even_for_odd_sizes(bilinear, norm):
    net = UNet(3, 5, depth=3, base_width=8, bilinear=bilinear, norm=norm).eval()
    assert net(torch.rand(2, 3, 37, 50)).shape == (2, 5, 37, 50)


def test_unet_follows_the_paper_by_default():
    net = UNet(1, 2)  # depth 4, 64 channels, transposed up-convolutions
    assert len(net.downs) == 4 and net.inc[0].out_channels == 64
    assert isinstance(net.ups[0].up, torch.nn.ConvTranspose2d)


def test_resnet_unet_shapes_and_rejects_non_resnets():
    net = ResNetUNet(EncoderConfig(backbone="resnet18", decoder_channels=[64, 32, 16, 16]), 4).eval()
    assert net(torch.rand(1, 3, 50, 66)).shape == (1, 4, 50, 66)
    with pytest.raises(ConfigError, match="not a torchvision ResNet"):
        ResNetUNet(EncoderConfig(backbone="mobilenet_v3_small"), 4)


def test_checkpoint_hparams_do_not_refetch_pretrained_weights(tmp_path):
    # weights by name would download, a weights file may be gone: once built, neither is kept in the hparams
    from visiontrain.models.shared.backbones import create_backbone

    state = create_backbone("resnet18").features.state_dict()
    torch.save(state, tmp_path / "r18.pt")
    encoder = {"backbone": "resnet18", "weights_path": str(tmp_path / "r18.pt"), "decoder_channels": [32, 16, 16, 16]}
    model = SemanticSegmenter(arch="unet_resnet", encoder=encoder, class_names=["bg", "x"])
    assert torch.equal(model.net.encoder[0][0].weight, state["conv1.weight"])
    assert model.hparams.encoder["weights"] is None and model.hparams.encoder["weights_path"] is None


@pytest.mark.parametrize("head_resolution", ["input", "skip"])
@pytest.mark.parametrize("upsample", ["bilinear", "nearest"])
def test_encoder_unet_head_and_upsampling_choices_keep_the_input_size(head_resolution, upsample):
    cfg = EncoderConfig(decoder_channels=[32, 16, 16, 8], head_resolution=head_resolution, upsample=upsample)
    net = ResNetUNet(cfg, 3).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 67, 45)).shape == (1, 3, 67, 45)


def test_encoder_unet_head_resolution_changes_the_computation_not_the_parameters():
    """Same state dict either way; earlier checkpoints store no head_resolution and are rebuilt as they were."""
    torch.manual_seed(0)
    old = ResNetUNet(EncoderConfig(decoder_channels=[32, 16, 16, 8]), 3).eval()
    new = ResNetUNet(EncoderConfig(decoder_channels=[32, 16, 16, 8], head_resolution="skip"), 3).eval()
    assert EncoderConfig().head_resolution == "input" and EncoderConfig().upsample == "bilinear"
    new.load_state_dict(old.state_dict())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(old(x), new(x))
    module = SemanticSegmenter(arch="unet_resnet", encoder={"decoder_channels": [32, 16, 16, 8]},
                               class_names=["bg", "a"])
    assert module.net.head_resolution == "input"


def test_shipped_encoder_unets_use_the_cheaper_head(tmp_path):
    from helpers import compose_cfg

    for model in ("unet_resnet", "unet_timm"):
        cfg = compose_cfg([f"model={model}"], tmp_path)
        assert cfg.model.encoder.head_resolution == "skip" and cfg.model.encoder.upsample == "nearest"
