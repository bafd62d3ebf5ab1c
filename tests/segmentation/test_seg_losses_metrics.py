"""Losses and metrics honour the ignore label; Dice/Focal/weighted sums behave as defined."""

import pytest
import torch
import torch.nn.functional as F

from visiontrain.errors import ConfigError
from visiontrain.models.segmentation.losses import LossConfig, SegmentationLoss, dice_loss, focal_loss
from visiontrain.models.segmentation.metrics import SegmentationMetrics

IGNORE = 255


def _batch(seed=0, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, n_classes, 8, 8, generator=g)
    target = torch.randint(0, n_classes, (2, 8, 8), generator=g)
    target[:, :2] = IGNORE
    return logits, target


@pytest.mark.parametrize("cfg", [LossConfig(ce=1), LossConfig(ce=0, dice=1), LossConfig(ce=0, focal=1),
                                 LossConfig(ce=1, dice=0.5, focal=2)])
def test_ignored_pixels_do_not_change_any_loss(cfg):
    logits, target = _batch()
    loss = SegmentationLoss(cfg, 3, IGNORE)
    before, _ = loss(logits, target)
    changed = logits.clone()
    changed[:, :, :2] = torch.randn_like(changed[:, :, :2]) * 10  # only where the target is ignored
    after, _ = loss(changed, target)
    assert torch.allclose(before, after)


def test_weighted_sum_is_the_sum_of_weighted_parts():
    logits, target = _batch()
    total, parts = SegmentationLoss(LossConfig(ce=1.0, dice=0.5, focal=2.0), 3, IGNORE)(logits, target)
    assert set(parts) == {"ce", "dice", "focal"}
    assert torch.allclose(total, parts["ce"] + 0.5 * parts["dice"] + 2.0 * parts["focal"])


def test_focal_with_gamma_zero_is_cross_entropy():
    logits, target = _batch()
    assert torch.allclose(focal_loss(logits, target, IGNORE, 0.0), F.cross_entropy(logits, target, ignore_index=IGNORE))


def test_dice_is_near_zero_for_a_confident_correct_prediction_and_high_for_a_wrong_one():
    _, target = _batch()
    clean = target.masked_fill(target == IGNORE, 0)
    perfect = F.one_hot(clean, 3).permute(0, 3, 1, 2).float() * 50
    assert dice_loss(perfect, target, IGNORE) < 1e-3
    assert dice_loss(perfect.roll(1, dims=1), target, IGNORE) > 0.9


def test_class_weights_change_cross_entropy_and_must_match_classes():
    logits, target = _batch()
    plain, _ = SegmentationLoss(LossConfig(), 3, IGNORE)(logits, target)
    weighted, _ = SegmentationLoss(LossConfig(class_weights=[0.1, 1.0, 5.0]), 3, IGNORE)(logits, target)
    assert not torch.allclose(plain, weighted)
    with pytest.raises(ConfigError, match="class_weights: 2 values for 3 classes"):
        SegmentationLoss(LossConfig(class_weights=[1.0, 2.0]), 3, IGNORE)


def test_metrics_exclude_ignored_pixels_and_absent_classes():
    target = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [IGNORE] * 4]])
    preds = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2]]])  # wrong only where ignored
    m = SegmentationMetrics(["bg", "a", "b", "c"], IGNORE)
    m.update(preds, target)
    out = m.compute("val")
    assert out["val/miou"] == pytest.approx(1.0) and out["val/dice"] == pytest.approx(1.0)
    assert set(out) == {"val/miou", "val/dice", "val/iou/bg", "val/iou/a"}  # b, c absent from both: left out


def test_metrics_count_errors():
    target = torch.tensor([[[0, 0, 1, 1]]])
    preds = torch.tensor([[[0, 1, 1, 1]]])
    m = SegmentationMetrics(["bg", "a"], IGNORE)
    m.update(preds, target)
    out = m.compute("test")
    assert out["test/iou/bg"] == pytest.approx(0.5) and out["test/iou/a"] == pytest.approx(2 / 3)
    assert out["test/dice"] == pytest.approx((2 / 3 + 0.8) / 2)
