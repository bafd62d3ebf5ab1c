"""The LightningModule through a real Trainer: the loss falls, and each option does what it says."""

import numpy as np
import pytest
import torch
from PIL import Image

from style_helpers import LossRecorder, fit
from visiontrain.models.style import StyleTransfer

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_loss_falls_with_random_weights_lbfgs(tiny_pairs, tmp_path):
    torch.manual_seed(0)
    rec = LossRecorder()
    module = StyleTransfer(lbfgs_max_iter=4)
    fit(module, tiny_pairs, 3, tmp_path, [rec.callback])
    assert len(rec.values) == 3
    assert rec.values[-1] < 0.5 * rec.values[0], rec.values
    assert (tmp_path / "final_astronaut__brick.png").is_file()


def test_lbfgs_strong_wolfe_is_the_default_and_the_loss_never_rises(tiny_pairs, tmp_path):
    torch.manual_seed(0)
    rec = LossRecorder()
    module = StyleTransfer(lbfgs_max_iter=4)
    trainer = fit(module, tiny_pairs, 6, tmp_path, [rec.callback])
    assert trainer.optimizers[0].defaults["line_search_fn"] == "strong_wolfe"
    assert len(rec.values) == 6
    assert all(b <= a for a, b in zip(rec.values, rec.values[1:])), rec.values
    assert rec.values[-1] < rec.values[0]


def test_line_search_can_be_switched_off(tiny_pairs, tmp_path):
    module = StyleTransfer(lbfgs_max_iter=2, line_search_fn=None)  # the PyTorch tutorial's fixed step
    trainer = fit(module, tiny_pairs, 1, tmp_path)
    assert trainer.optimizers[0].defaults["line_search_fn"] is None


def test_loss_falls_with_adam_from_noise(tiny_pairs, tmp_path):
    torch.manual_seed(0)
    rec = LossRecorder()
    fit(StyleTransfer(optimizer="adam", init="noise", lr=0.05, tv_weight=1.0), tiny_pairs, 8, tmp_path, [rec.callback])
    assert rec.values[-1] < rec.values[0], rec.values


def test_mask_keeps_the_content_outside(tiny_pairs, tmp_path):
    pair = tiny_pairs[0]
    mask = torch.zeros(1, *pair.content.shape[1:])
    mask[..., mask.shape[-1] // 2:] = 1.0
    masked = [type(pair)(pair.name, pair.content, pair.styles, pair.style_weights, mask)]
    module = StyleTransfer(init="noise", lbfgs_max_iter=2)
    fit(module, masked, 1, tmp_path)
    out = module.output_images()[pair.name]
    left = slice(0, mask.shape[-1] // 2 - 1)
    assert torch.allclose(out[..., left], pair.content[..., left], atol=1e-6)
    assert not torch.allclose(out[..., -4:], pair.content[..., -4:], atol=1e-2)  # noise start, stylised side


def test_luminance_transfer_keeps_the_content_colours(tiny_pairs, tmp_path):
    from skimage.color import rgb2yiq

    module = StyleTransfer(preserve_color="luminance", lbfgs_max_iter=2)
    fit(module, tiny_pairs, 1, tmp_path)
    assert module.images[0].shape[1] == 1  # only the luminance is optimised
    out = module.output_images()[tiny_pairs[0].name].permute(1, 2, 0).numpy()
    content = tiny_pairs[0].content.permute(1, 2, 0).numpy()
    chroma_out, chroma_content = rgb2yiq(out)[..., 1:], rgb2yiq(content)[..., 1:]
    assert np.abs(chroma_out - chroma_content).mean() < 0.01  # clipping to [0, 1] moves a few pixels


def test_histogram_matching_and_blended_styles(tiny_pairs, tmp_path):
    pair = tiny_pairs[0]
    blend = [type(pair)("blend", pair.content, [pair.styles[0], torch.rand_like(pair.styles[0])], [0.5, 0.5])]
    module = StyleTransfer(preserve_color="histogram", init="style", pooling="avg", lbfgs_max_iter=2)
    fit(module, blend, 1, tmp_path)
    target = module._targets[0].grams["conv1_1"]
    content, styles, _ = module._sources[0]
    from visiontrain.models.style.losses import gram

    with torch.no_grad():
        expected = sum(0.5 * gram(module.features(s[None])["conv1_1"]) for s in styles)
    assert torch.allclose(target, expected, rtol=1e-4, atol=1e-7)
    # the matched style now has the content's mean colour (it was grey brick)
    assert torch.allclose(styles[0].mean(dim=(1, 2)), content.mean(dim=(1, 2)), atol=0.03)


def test_multiscale_switches_size_and_keeps_no_coarse_state(tiny_pairs, tmp_path):
    module = StyleTransfer(scales=[0.5, 1.0], steps_per_scale=2, snapshot_every=1, lbfgs_max_iter=2,
                           lbfgs_history_size=3)
    trainer = fit(module, tiny_pairs, 4, tmp_path)
    full = tiny_pairs[0].content.shape[1:]
    assert tuple(module.images[0].shape[-2:]) == tuple(full)
    sizes = [np.asarray(Image.open(p)).shape[:2]
             for p in sorted((tmp_path / "snapshots").glob("*.png"))]
    assert sizes[0] == (full[0] // 2, full[1] // 2) and sizes[-1] == tuple(full)
    # one optimiser, whose history only holds full-size vectors, at most history_size of them
    (opt,) = trainer.optimizers
    state = opt.state[opt.param_groups[0]["params"][0]]
    n = module.images[0].numel()
    assert all(t.numel() == n for t in state["old_dirs"] + state["old_stps"] + [state["d"]])
    assert len(state["old_dirs"]) <= 3
    # style targets computed at the final scale only
    assert module._targets[0].content.shape[-2:] == full
