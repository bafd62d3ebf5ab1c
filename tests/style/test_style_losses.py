"""Gram normalisation and the loss terms, on plain tensors."""

import pytest
import torch

from visiontrain.models.style.losses import gram, style_loss, tv_loss


def test_gram_is_normalised_by_channels_and_positions():
    f = torch.randn(2, 4, 5, 6)
    manual = torch.einsum("bchw,bdhw->bcd", f, f) / (4 * 5 * 6)
    assert torch.allclose(gram(f), manual, atol=1e-6)


def test_gram_does_not_depend_on_image_size():
    # the same texture seen at twice the resolution: every position repeated four times
    f = torch.randn(1, 8, 7, 9)
    bigger = torch.nn.functional.interpolate(f, scale_factor=2, mode="nearest")
    assert torch.allclose(gram(f), gram(bigger), atol=1e-5)
    assert not torch.allclose(gram(f), gram(bigger) * 4, atol=1e-3)  # an unnormalised Gram would differ by 4x


def test_masked_gram_counts_only_the_masked_positions():
    f = torch.randn(1, 3, 4, 8)
    assert torch.allclose(gram(f, torch.ones(1, 1, 4, 8)), gram(f), atol=1e-6)
    left = torch.zeros(1, 1, 4, 8)
    left[..., :4] = 1
    assert torch.allclose(gram(f, left), gram(f[..., :4]), atol=1e-6)


def test_gram_stays_float32_under_bfloat16():
    f = torch.randn(1, 4, 6, 6).bfloat16()
    assert gram(f).dtype == torch.float32


def _reference_gram(f, mask=None):
    b, c, h, w = f.shape
    if mask is None:
        return torch.einsum("bchw,bdhw->bcd", f, f) / (c * h * w)
    m = torch.nn.functional.interpolate(mask, size=(h, w), mode="bilinear", align_corners=False)
    return torch.einsum("bchw,bdhw->bcd", f * m, f * m) / (c * (m * m).sum(dim=(1, 2, 3)).view(b, 1, 1))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_gram_value_and_gradient_match_plain_autograd_in_both_memory_layouts(channels_last, masked):
    # the hand-written backward (one matmul using the symmetry) against autograd of the textbook formula
    torch.manual_seed(0)
    f = torch.randn(2, 5, 6, 7, dtype=torch.float64)
    if channels_last:
        f = f.contiguous(memory_format=torch.channels_last)
    mask = torch.rand(2, 1, 3, 4, dtype=torch.float64) if masked else None
    upstream = torch.randn(2, 5, 5, dtype=torch.float64)  # not symmetric: both halves of the gradient matter
    ours, ref = f.clone().requires_grad_(True), f.clone().requires_grad_(True)
    assert torch.allclose(gram(ours, mask), _reference_gram(ref, mask), atol=1e-12)
    (gram(ours, mask) * upstream).sum().backward()
    (_reference_gram(ref, mask) * upstream).sum().backward()
    assert torch.allclose(ours.grad, ref.grad, atol=1e-10)


@pytest.mark.parametrize("channels_last", [False, True])
def test_gram_gradcheck(channels_last):
    f = torch.randn(1, 3, 4, 5, dtype=torch.float64)
    if channels_last:
        f = f.contiguous(memory_format=torch.channels_last)
    assert torch.autograd.gradcheck(gram, (f.requires_grad_(True),))


def test_style_loss_is_zero_for_the_target_and_weighted_per_layer():
    feats = {"a": torch.randn(1, 4, 6, 6), "b": torch.randn(1, 2, 3, 3)}
    targets = {k: gram(v) for k, v in feats.items()}
    assert style_loss(feats, targets, {"a": 1.0, "b": 1.0}).item() == 0.0
    other = {k: v + 1 for k, v in feats.items()}
    one = style_loss(other, targets, {"a": 1.0, "b": 0.0})
    assert torch.isclose(style_loss(other, targets, {"a": 2.0, "b": 0.0}), 2 * one)


def test_total_variation():
    assert tv_loss(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., ::2] = 1.0
    assert abs(tv_loss(stripes).item() - 1.0) < 1e-6  # every horizontal neighbour differs by 1, no vertical change
