"""U-Net variants keep the input size; the ResNet U-Net rebuilds from a checkpoint without fetching weights."""

import pytest
import torch

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.module import SemanticSegmenter
from visiontrain.models.segmentation.resnet_unet import EncoderConfig, ResNetUNet
from visiontrain.models.segmentation.unet import UNet


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
    from visiontrain.models.classification.backbones import create_backbone

    state = create_backbone("resnet18").features.state_dict()
    torch.save(state, tmp_path / "r18.pt")
    encoder = {"backbone": "resnet18", "weights_path": str(tmp_path / "r18.pt"), "decoder_channels": [32, 16, 16, 16]}
    model = SemanticSegmenter(arch="unet_resnet", encoder=encoder, class_names=["bg", "x"])
    assert torch.equal(model.net.encoder[0][0].weight, state["conv1.weight"])
    assert model.hparams.encoder["weights"] is None and model.hparams.encoder["weights_path"] is None
