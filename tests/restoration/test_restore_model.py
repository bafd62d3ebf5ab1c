"""The restoration module's pieces: mean-fill baseline, kept pixels, compression ratio, config checks."""

import pytest
import torch

from visiontrain.errors import ConfigError
from visiontrain.models.restoration.autoencoder import AutoencoderConfig, ConvAutoencoder
from visiontrain.models.restoration.module import ImageRestorer, mean_fill


def test_mean_fill_uses_the_known_pixels_only():
    image = torch.zeros(1, 3, 4, 4)
    image[..., :2] = 1.0
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :, 3] = 1  # holes in the last column (whose true value is 0)
    filled = mean_fill(image, mask)
    assert torch.allclose(filled[..., 3], torch.full((1, 3, 4), 2 / 3))
    assert torch.equal(filled[..., :3], image[..., :3])


def test_inpainting_keeps_known_pixels_and_takes_the_mask_channel():
    model = ImageRestorer(task="inpaint", unet={"depth": 2, "base_width": 8}).eval()
    assert model.net.inc[0].in_channels == 4
    image, mask = torch.rand(2, 3, 16, 16), (torch.rand(2, 1, 16, 16) > 0.7).float()
    out = model(image, mask)
    assert torch.equal(out * (1 - mask), image * (1 - mask))


def test_autoencoder_compression_ratio_and_odd_sizes():
    ae = ConvAutoencoder(3, 3, AutoencoderConfig(base_width=8, downsamples=3, bottleneck_channels=16))
    assert ae.compression_ratio() == 12.0
    assert ae.encoder(torch.rand(1, 3, 64, 64)).shape == (1, 16, 8, 8)  # 3*64*64 / (16*8*8) = 12
    assert ae(torch.rand(1, 3, 30, 45)).shape == (1, 3, 30, 45)


def test_compress_needs_the_autoencoder():
    with pytest.raises(ConfigError, match="compress needs the autoencoder"):
        ImageRestorer(task="compress", arch="unet")
    model = ImageRestorer(task="compress", arch="autoencoder", residual=True)
    assert model.residual is False and model.compression_ratio == 12.0  # the input must not bypass the code
