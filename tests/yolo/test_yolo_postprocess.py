"""Post-processing: single-label (predict's default) vs multi-label (evaluation's) candidates, and the inference path
(channels-last fused net, file paths) giving the same detections as the plain one."""

import numpy as np
import pytest
import torch

from visiontrain.models.yolo.module import YOLODetector
from visiontrain.models.yolo.network import YOLONet
from visiontrain.models.yolo.postprocess import nms


def _decoded(batch: int, anchors: int, k: int, seed: int, spread: float) -> torch.Tensor:
    """Random pre-NMS output (B, 4 + K, A): xyxy boxes (``spread`` apart on a grid, 10 px wide) and scores."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(batch, anchors, 2, generator=g) * 100 + torch.arange(anchors).view(1, -1, 1) * spread
    boxes = torch.cat([xy, xy + 10 + torch.rand(batch, anchors, 2, generator=g)], -1)
    scores = torch.rand(batch, anchors, k, generator=g) ** 3  # many below, some above the threshold
    return torch.cat([boxes, scores], -1).transpose(1, 2)


def _anchor_of(box: torch.Tensor, boxes: torch.Tensor) -> int:
    """Index of the anchor whose box this is (kept boxes are the anchors' own boxes, unchanged)."""
    hit = (boxes == box).all(1).nonzero().flatten()
    assert len(hit) == 1
    return int(hit[0])


@pytest.mark.parametrize("spread", [0.0, 20.0])  # overlapping boxes (suppression at work) and apart
def test_single_label_keeps_each_anchors_best_class(spread):
    decoded = _decoded(3, 60, 5, seed=1, spread=spread)
    out = nms(decoded, conf=0.05, iou=0.5, max_det=300, multi_label=False)
    assert sum(len(d["boxes"]) for d in out) > 0
    for i, d in enumerate(out):
        pred = decoded[i].T  # (A, 4 + K)
        anchors = [_anchor_of(b, pred[:, :4]) for b in d["boxes"]]
        assert len(set(anchors)) == len(anchors)  # one class per anchor
        for a, label, score in zip(anchors, d["labels"].tolist(), d["scores"].tolist()):
            assert label == int(pred[a, 4:].argmax()) and score == pytest.approx(float(pred[a, 4:].max()))
            assert score > 0.05


def test_multi_label_is_a_superset_of_single_label():
    # Boxes apart (no suppression): multi-label keeps every (anchor, class) above conf, single-label each anchor's
    # best of them. (Where boxes overlap, a class's NMS in multi-label also sees anchors whose best class differs,
    # which can suppress a box single-label keeps: the superset holds in general only without that interplay.)
    decoded = _decoded(2, 40, 4, seed=2, spread=200.0)
    conf = 0.1
    single = nms(decoded, conf=conf, iou=0.5, multi_label=False)
    multi = nms(decoded, conf=conf, iou=0.5, multi_label=True)
    for i, (s, m) in enumerate(zip(single, multi)):
        pred = decoded[i].T
        s_set, m_set = ({(_anchor_of(b, pred[:, :4]), int(c)) for b, c in zip(d["boxes"], d["labels"])}
                        for d in (s, m))
        assert s_set < m_set  # strictly more: some anchors have two classes above conf
        assert m_set == {(a, c) for a, c in (pred[:, 4:] > conf).nonzero().tolist()}
        assert s_set == {(a, int(pred[a, 4:].argmax())) for a in range(len(pred)) if pred[a, 4:].max() > conf}


def test_single_label_batch_equals_image_by_image_and_max_det_cuts_by_score():
    decoded = _decoded(3, 80, 3, seed=3, spread=5.0)
    together = nms(decoded, conf=0.05, iou=0.5, max_det=10, multi_label=False)
    for i, t in enumerate(together):
        alone = nms(decoded[i:i + 1], conf=0.05, iou=0.5, max_det=10, multi_label=False)[0]
        for k in ("boxes", "scores", "labels"):
            torch.testing.assert_close(t[k], alone[k])
        assert len(t["scores"]) <= 10 and (t["scores"].diff() <= 0).all()


def test_predict_is_single_label_from_arrays_and_files_and_matches_the_plain_network(tmp_path):
    import cv2

    torch.manual_seed(0)
    module = YOLODetector(class_names=["a", "b", "c"], img_size=64).eval()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (48, 80, 3), dtype=np.uint8)
    path = tmp_path / "im.png"
    cv2.imwrite(str(path), image[..., ::-1])  # OpenCV writes BGR
    from_array, from_file = module.predict([image])[0], module.predict([path])[0]
    for k in ("boxes", "scores", "labels"):
        torch.testing.assert_close(from_array[k], from_file[k])
    assert len(from_array["boxes"]) > 0

    # the channels-last, BN-folded inference copy gives the plain EMA network's pre-NMS output
    from visiontrain.data.yolo_data import image_to_tensor

    x = image_to_tensor(image, 64)[0][None]
    net = module.fused_net()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert module.fused_net() is net  # cached while the EMA has not moved
    with torch.no_grad():
        plain = module(x)
        fast = net.decode(net(x.contiguous(memory_format=torch.channels_last)))
    torch.testing.assert_close(fast, plain, atol=1e-3, rtol=1e-4)
    h = module.hparams
    single = nms(plain, h.conf_threshold, h.iou_threshold, h.max_det, multi_label=False)[0]
    torch.testing.assert_close(from_array["scores"], single["scores"], atol=1e-4, rtol=1e-4)  # predict: single
    assert from_array["labels"].tolist() == single["labels"].tolist()

    module.hparams.predict_multi_label = True
    multi = module.predict([image])[0]
    expected = nms(plain, h.conf_threshold, h.iou_threshold, h.max_det, multi_label=True)[0]
    torch.testing.assert_close(multi["scores"], expected["scores"], atol=1e-4, rtol=1e-4)
    assert len(multi["scores"]) > len(from_array["scores"])


def test_decode_is_the_same_for_channels_last_maps_and_caches_anchors():
    net = YOLONet(2, "n").eval()
    with torch.no_grad():
        maps = net(torch.rand(2, 3, 64, 96))
        plain = net.decode(maps)
        cl = net.decode([m.contiguous(memory_format=torch.channels_last) for m in maps])
        again = net.decode(maps)
    torch.testing.assert_close(cl, plain)
    torch.testing.assert_close(again, plain)
    with torch.no_grad():  # another input size: other anchors, not the cached ones
        other = net.decode(net(torch.rand(1, 3, 96, 64)))
    assert other.shape == (1, 6, 12 * 8 + 6 * 4 + 3 * 2)
