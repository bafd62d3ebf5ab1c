"""The YOLO detector's parts on hand-made cases: head shapes, assigner, DFL, letterbox, mosaic, EMA, groups."""

import math

import numpy as np
import pytest
import torch

from visiontrain.data.yolo_data import image_to_tensor, letterbox, mosaic
from visiontrain.errors import ConfigError
from visiontrain.models.yolo.assigner import assign
from visiontrain.models.yolo.blocks import dfl_decode
from visiontrain.models.yolo.ema import make_ema
from visiontrain.models.yolo.loss import YOLOLoss, dfl_loss
from visiontrain.models.yolo.module import WarmupDecay, param_groups
from visiontrain.models.yolo.network import YOLONet
from visiontrain.models.yolo.postprocess import nms, to_original


@pytest.mark.parametrize("num_classes", [1, 7])
def test_head_shapes_for_any_class_count(num_classes):
    net = YOLONet(num_classes, "n").eval()
    maps = net(torch.rand(2, 3, 96, 64))
    assert [tuple(m.shape) for m in maps] == [(2, 64 + num_classes, h, w) for h, w in ((12, 8), (6, 4), (3, 2))]
    out = net.decode(maps)
    assert out.shape == (2, 4 + num_classes, 12 * 8 + 6 * 4 + 3 * 2)
    assert (out[:, 4:] >= 0).all() and (out[:, 4:] <= 1).all()
    assert (out[:, 2] >= out[:, 0]).all() and (out[:, 3] >= out[:, 1]).all()


def test_scales_grow_and_bad_scale_is_a_config_error():
    sizes = [sum(p.numel() for p in YOLONet(3, s).parameters()) for s in "nsm"]
    assert sizes[0] < sizes[1] < sizes[2]
    with pytest.raises(ConfigError, match="model.scale"):
        YOLONet(3, "x")
    with pytest.raises(ConfigError):
        YOLONet(0, "n")


def test_dfl_decode_is_the_expected_bin_and_loss_prefers_the_right_bins():
    reg_max = 16
    logits = torch.full((1, 4 * reg_max), -1e4)
    for side, b in enumerate((0, 3, 7, 15)):  # one-hot distributions
        logits[0, side * reg_max + b] = 0
    assert dfl_decode(logits, reg_max).tolist() == [[0.0, 3.0, 7.0, 15.0]]
    uniform = torch.zeros(1, 4 * reg_max)
    assert dfl_decode(uniform, reg_max)[0, 0].item() == pytest.approx(7.5)
    target = torch.tensor([[2.25, 2.25, 2.25, 2.25]])  # between bins 2 and 3, 3/4 towards 2
    good = torch.full((1, 4 * reg_max), -20.0)
    for side in range(4):
        good[0, side * reg_max + 2], good[0, side * reg_max + 3] = math.log(0.75), math.log(0.25)
    assert dfl_loss(good, target, reg_max).item() < dfl_loss(uniform, target, reg_max).item()
    assert dfl_decode(good, reg_max)[0, 0].item() == pytest.approx(2.25, abs=1e-4)


def test_assigner_hand_made_case():
    # 4x4 grid of anchors at stride 10 (centres 5, 15, 25, 35); one box covering the top-left 2x2 anchors
    ys, xs = torch.meshgrid(torch.arange(4) * 10.0 + 5, torch.arange(4) * 10.0 + 5, indexing="ij")
    points = torch.stack([xs, ys], -1).view(-1, 2)
    gt = torch.tensor([[0.0, 0.0, 20.0, 20.0]])
    pred = torch.cat([points - 10, points + 10], 1)  # every anchor predicts a 20x20 box around itself
    pred[0] = gt[0]  # anchor 0 predicts the box exactly
    scores = torch.full((16, 3), 0.1)
    scores[0, 2] = 0.9  # anchor 0 is confident in the right class
    a = assign(scores, pred, points, gt, torch.tensor([2]), topk=3)
    inside = {0, 1, 4, 5}
    assert set(torch.nonzero(a.fg).flatten().tolist()) <= inside and a.fg.sum() == 3
    assert a.fg[0]  # the exact-overlap, confident anchor is chosen
    assert torch.equal(a.boxes[a.fg], gt.expand(3, 4))
    assert (a.scores[~a.fg] == 0).all() and (a.scores[a.fg][:, [0, 1]] == 0).all()
    assert a.scores[0, 2].item() == pytest.approx(1.0, abs=1e-4)  # best anchor's target = its IoU (1.0)
    assert 0 < a.scores[a.fg][1:, 2].max() < 0.5  # the others: scaled by their (lower) alignment
    empty = assign(scores, pred, points, torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    assert not empty.fg.any() and empty.scores.sum() == 0


def test_assigner_gives_a_shared_anchor_to_the_box_it_overlaps_most():
    points = torch.tensor([[10.0, 10.0]])
    pred = torch.tensor([[0.0, 0.0, 20.0, 20.0]])
    gts = torch.tensor([[0.0, 0.0, 40.0, 40.0], [1.0, 1.0, 21.0, 21.0]])
    a = assign(torch.full((1, 2), 0.5), pred, points, gts, torch.tensor([0, 1]))
    assert a.fg[0] and torch.equal(a.boxes[0], gts[1]) and a.scores[0, 1] > 0 and a.scores[0, 0] == 0


def test_loss_is_finite_with_and_without_boxes_and_falls_on_one_batch():
    torch.manual_seed(0)
    net = YOLONet(2, "n")
    loss = YOLOLoss(net)
    x = torch.rand(2, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 48.0]]), "labels": torch.tensor([1])},
               {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    values = []
    for _ in range(20):
        parts = loss(net(x), targets)
        total = sum(parts.values())
        assert all(torch.isfinite(v) for v in parts.values())
        opt.zero_grad()
        total.backward()
        opt.step()
        values.append(total.item())
    assert np.mean(values[-4:]) < 0.75 * values[0], values  # task-aligned targets move: noisy, not monotonic


def test_letterbox_round_trip_of_boxes_is_exact():
    rng = np.random.default_rng(0)
    for h, w in ((37, 101), (240, 60), (64, 64), (500, 333)):
        boxes = np.sort(rng.uniform(0, 1, (5, 2, 2)), axis=1).reshape(5, 4)[:, [0, 2, 1, 3]]  # x1 y1 x2 y2 sorted
        boxes = (boxes * [w, h, w, h]).astype(np.float32)
        image, moved, params = letterbox(np.zeros((h, w, 3), np.uint8), 96, boxes)
        assert image.shape == (96, 96, 3)
        back = to_original(torch.from_numpy(moved), torch.from_numpy(params), (h, w)).numpy()
        np.testing.assert_allclose(back, boxes, atol=1e-3)
    # the content lands where the boxes say: a white block at a known place
    img = np.zeros((50, 200, 3), np.uint8)
    img[10:30, 100:150] = 255
    out, moved, _ = letterbox(img, 100, np.array([[100, 10, 150, 30]], np.float32))
    x1, y1, x2, y2 = moved[0]
    assert out[int(y1) + 1:int(y2) - 1, int(x1) + 1:int(x2) - 1].min() == 255
    assert out[int(y2) + 2, int(x1) + 2].max() < 255


def test_mosaic_boxes_follow_their_pixels():
    import random

    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)
    parts = []
    for k in range(4):
        img = np.zeros((60 + 10 * k, 80, 3), np.uint8)
        box = np.array([[10 + k, 12, 50 + k, 40]], np.float32)
        img[12:40, 10 + k:50 + k] = colours[k]
        parts.append((img, box, np.array([k])))
    seen = 0
    for seed in range(6):
        out, boxes, labels = mosaic(parts, 128, 0.5, 0.1, random.Random(seed))
        assert out.shape == (128, 128, 3) and len(boxes) == len(labels)
        assert (boxes[:, [0, 1]] >= 0).all() and (boxes[:, [2, 3]] <= 128).all()
        for b, lab in zip(boxes, labels):
            cx, cy = int((b[0] + b[2]) / 2), int((b[1] + b[3]) / 2)
            assert np.abs(out[cy, cx].astype(int) - colours[lab]).max() < 40, (seed, b, lab)
            seen += 1
    assert seen >= 6


def test_ema_follows_the_ramped_decay():
    net = torch.nn.Linear(2, 1)
    ema = make_ema(net, decay=0.9, tau=1.0)
    assert not any(p.requires_grad for p in ema.parameters())
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema.update_parameters(net)  # first update copies
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update_parameters(net)  # n_averaged=1: d = 0.9 * (1 - e^-1)
    d = 0.9 * (1 - math.exp(-1))
    assert ema.module.weight.detach() == pytest.approx(torch.full((1, 2), 1 - d))


def test_fast_ema_update_equals_averaged_models_own_update():
    from torch.optim.swa_utils import AveragedModel

    from visiontrain.models.yolo.ema import RampedEMA

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).to(memory_format=torch.channels_last)
    fast = make_ema(net, decay=0.9, tau=3.0)
    stock = AveragedModel(net, multi_avg_fn=RampedEMA(0.9, 3.0), use_buffers=True)
    for _ in range(4):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net.train()(torch.rand(2, 3, 8, 8))  # moves BN statistics and num_batches_tracked
        fast.update_parameters(net)
        stock.update_parameters(net)
    for (name, a), b in zip(fast.state_dict().items(), stock.state_dict().values()):
        assert torch.equal(a, b), name
    assert int(fast.n_averaged) == 4 and int(fast.module[1].num_batches_tracked) == 4


def test_no_weight_decay_on_norms_and_biases():
    net = YOLONet(3, "n")
    groups = {g["name"]: g for g in param_groups(net)}
    assert groups["norm"]["weight_decay"] == 0 and groups["bias"]["weight_decay"] == 0
    assert "weight_decay" not in groups["decay"]  # the optimiser's own setting
    decay_ids = {id(p) for p in groups["decay"]["params"]}
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            assert id(m.weight) not in decay_ids and id(m.bias) not in decay_ids
        if isinstance(m, torch.nn.Conv2d):
            assert id(m.weight) in decay_ids
    assert sum(len(g["params"]) for g in groups.values()) == len(list(net.parameters()))


def test_warmup_starts_biases_high_then_decays():
    bias, other = WarmupDecay(100, 10, 50.0, 0.01, "linear"), WarmupDecay(100, 10, 0.0, 0.01, "cosine")
    assert bias(0) == 50.0 and other(0) == 0.0
    assert bias(10) == pytest.approx(1 - 0.99 * 0.1) and other(100) == pytest.approx(0.01)
    assert other(5) > other(0) and bias(5) < bias(0)


def test_nms_and_image_conversion_for_gray_and_rgba():
    decoded = torch.zeros(1, 6, 3)
    decoded[0, :4] = torch.tensor([[0, 0, 50], [0, 1, 0], [10, 10, 60], [10, 11, 10]], dtype=torch.float).T.T
    decoded[0, :4, 0] = torch.tensor([0.0, 0, 10, 10])
    decoded[0, :4, 1] = torch.tensor([0.0, 1, 10, 11])  # overlaps the first: suppressed
    decoded[0, :4, 2] = torch.tensor([50.0, 0, 60, 10])
    decoded[0, 4, :] = torch.tensor([0.9, 0.8, 0.7])
    out = nms(decoded, conf=0.5)[0]
    assert out["labels"].tolist() == [0, 0] and out["scores"].tolist() == pytest.approx([0.9, 0.7])
    for arr in (np.zeros((30, 50), np.uint8), np.zeros((30, 50, 4), np.uint8)):
        x, params = image_to_tensor(arr, 64)
        assert x.shape == (3, 64, 64) and params[2] == 0


def test_bn_folding_keeps_the_outputs():
    torch.manual_seed(0)
    net = YOLONet(3, "n")
    for m in net.modules():  # non-trivial statistics, so the fold matters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    net.eval()
    fused = net.fused()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fused.decode(fused(x)), net.decode(net(x)), atol=1e-3, rtol=1e-4)


def test_fit_stores_the_datasets_category_ids_and_checkpoints_rebuild_with_them():
    from types import SimpleNamespace

    from visiontrain.models.yolo.module import YOLODetector

    module = YOLODetector(class_names=["a", "b"], log_images=0)
    module._trainer = SimpleNamespace(datamodule=SimpleNamespace(class_names=["a", "b"], img_size=64,
                                                                 category_ids=[3, 7]))
    module.setup("fit")
    assert module.hparams["category_ids"] == [3, 7]
    rebuilt = YOLODetector(**dict(module.hparams))  # what loading a checkpoint does with its hyper_parameters
    assert rebuilt.hparams["category_ids"] == [3, 7]
