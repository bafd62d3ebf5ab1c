"""The batched assigner and loss against the per-image reference (tests/yolo/reference_assign.py) on random
batches: same foreground anchors, same target boxes and soft scores, same loss values and gradients."""

import pytest
import torch
from reference_assign import assign_one, loss_per_image

from visiontrain.models.yolo.assigner import assign_batch, pad_targets
from visiontrain.models.yolo.loss import YOLOLoss
from visiontrain.models.yolo.network import YOLONet


def random_batch(seed: int, b: int = 4, a_side: int = 12, k: int = 5, stride: float = 8.0):
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.arange(a_side) + 0.5, torch.arange(a_side) + 0.5, indexing="ij")
    points = torch.stack([xs, ys], -1).view(-1, 2) * stride
    size = a_side * stride
    a = len(points)
    scores = torch.rand(b, a, k, generator=g)
    half = torch.rand(b, a, 2, generator=g) * size / 4 + 1
    pred = torch.cat([points - half, points + half], -1)  # boxes around their anchors, overlapping the gts
    gts, labels = [], []
    for i in range(b):
        m = [0, 1, 3, 7][(seed + i) % 4]  # images with no, one and several boxes in one batch
        xy = torch.rand(m, 2, generator=g) * size * 0.7
        wh = torch.rand(m, 2, generator=g) * size * 0.4 + stride
        gts.append(torch.cat([xy, xy + wh], 1))
        labels.append(torch.randint(0, k, (m,), generator=g))
    if seed % 3 == 0 and b > 1:  # a duplicated box: anchors claimed by two boxes (the IoU tie-break path)
        gts[1] = torch.cat([gts[1], gts[1][:1] + 0.5]) if len(gts[1]) else gts[1]
        labels[1] = torch.cat([labels[1], labels[1][:1]]) if len(labels[1]) else labels[1]
    return scores, pred, points, gts, labels


@pytest.mark.parametrize("seed", range(6))
def test_batched_assigner_matches_the_per_image_one(seed):
    scores, pred, points, gts, labels = random_batch(seed)
    gt, lab, mask = pad_targets(gts, labels)
    got = assign_batch(scores, pred, points, gt, lab, mask, topk=10)
    assert got.fg.any()
    for i in range(len(gts)):
        fg, boxes, target = assign_one(scores[i], pred[i], points, gts[i], labels[i], topk=10)
        assert torch.equal(got.fg[i], fg), i
        torch.testing.assert_close(got.boxes[i][fg], boxes[fg])
        torch.testing.assert_close(got.scores[i], target, atol=1e-5, rtol=1e-4)


def test_batched_assigner_with_no_boxes_anywhere():
    scores, pred, points, _, _ = random_batch(0, b=2)
    gt, lab, mask = pad_targets([torch.zeros(0, 4)] * 2, [torch.zeros(0, dtype=torch.long)] * 2)
    a = assign_batch(scores, pred, points, gt, lab, mask)
    assert a.fg.shape == (2, len(points)) and not a.fg.any() and a.scores.sum() == 0


@pytest.mark.parametrize("seed", range(3))
def test_batched_loss_matches_the_per_image_loop_values_and_gradients(seed):
    torch.manual_seed(seed)
    net = YOLONet(3, "n")
    x = torch.rand(3, 3, 96, 96)
    g = torch.Generator().manual_seed(seed)
    targets = []
    for m in (2, 0, 5):
        xy = torch.rand(m, 2, generator=g) * 60
        targets.append({"boxes": torch.cat([xy, xy + torch.rand(m, 2, generator=g) * 30 + 6], 1),
                        "labels": torch.randint(0, 3, (m,), generator=g)})
    maps = net(x)
    batched, reference = YOLOLoss(net)(maps, targets), loss_per_image(net, maps, targets)
    for key in reference:
        torch.testing.assert_close(batched[key], reference[key], atol=1e-5, rtol=1e-4)
    grads_b = torch.autograd.grad(sum(batched.values()), list(net.parameters()), retain_graph=True)
    grads_r = torch.autograd.grad(sum(reference.values()), list(net.parameters()))
    for gb, gr in zip(grads_b, grads_r):
        torch.testing.assert_close(gb, gr, atol=1e-5, rtol=1e-3)


def test_batched_nms_equals_nms_image_by_image():
    from visiontrain.models.yolo.postprocess import nms

    g = torch.Generator().manual_seed(0)
    a, k = 300, 3
    xy = torch.rand(4, 2, a, generator=g) * 100
    decoded = torch.cat([xy, xy + torch.rand(4, 2, a, generator=g) * 30 + 2, torch.rand(4, k, a, generator=g)], 1)
    decoded[2, 4:] = 0  # an image with no candidate above the threshold
    together = nms(decoded, conf=0.3, iou=0.5, max_det=40, max_candidates=200)
    assert len(together) == 4 and len(together[2]["boxes"]) == 0
    for i in range(4):
        alone = nms(decoded[i:i + 1], conf=0.3, iou=0.5, max_det=40, max_candidates=200)[0]
        for key in ("boxes", "scores", "labels"):
            torch.testing.assert_close(together[i][key], alone[key])
    capped = nms(decoded, conf=0.3, iou=0.5, max_det=7)
    assert all(len(d["scores"]) <= 7 for d in capped)
    assert all((d["scores"][:-1] >= d["scores"][1:]).all() for d in capped)  # best first
    assert torch.equal(capped[0]["scores"], together[0]["scores"][:7])
