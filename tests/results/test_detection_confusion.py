"""Detection confusion matrix: Ultralytics' greedy class-agnostic matching on hand-made boxes, background counted."""

import numpy as np
import pytest
import torch

from visiontrain.errors import ConfigError
from visiontrain.results.detection_confusion import DetectionConfusion, confusion_figures, match

BG = 2  # two classes: 0 cat, 1 dog; index 2 is background


def _gt(boxes, labels, crowd=None):
    return {"boxes": torch.tensor(boxes, dtype=torch.float), "labels": torch.tensor(labels),
            "iscrowd": torch.tensor(crowd if crowd is not None else [0] * len(labels))}


def _pred(boxes, labels, scores):
    return {"boxes": torch.tensor(boxes, dtype=torch.float).reshape(-1, 4), "labels": torch.tensor(labels),
            "scores": torch.tensor(scores)}


def test_hits_confusions_misses_and_false_positives_land_in_their_cells():
    metric = DetectionConfusion(2, score_threshold=0.25, iou_threshold=0.5)
    gt = _gt([[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]], [0, 1, 1])
    pred = _pred([[0, 0, 10, 11],      # cat on the cat: a hit
                  [20, 20, 30, 31],    # cat on the dog: class confusion (matching is class-agnostic)
                  [80, 80, 90, 90],    # dog on nothing: false positive (true background)
                  [50, 50, 60, 60]],   # dog on the third truth but under the score threshold: that dog is missed
                 [0, 0, 1, 1], [0.9, 0.8, 0.7, 0.1])
    metric.update([pred], [gt])
    m = metric.compute().numpy()  # rows true, columns predicted
    expected = np.zeros((3, 3), dtype=np.int64)
    expected[0, 0] = 1   # cat → cat
    expected[1, 0] = 1   # dog predicted cat
    expected[1, BG] = 1  # dog missed
    expected[BG, 1] = 1  # a dog predicted on background
    assert (m == expected).all(), m
    assert m.sum() == 4  # three truths + one unmatched prediction


def test_each_truth_and_prediction_is_matched_once_best_iou_first():
    # two predictions on one truth: the better one matches, the other is a false positive on background
    gi, pi = match(torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[0.0, 0, 10, 12], [0.0, 0, 10, 10]]), 0.5)
    assert gi.tolist() == [0] and pi.tolist() == [1]
    metric = DetectionConfusion(2)
    metric.update([_pred([[0, 0, 10, 12], [0, 0, 10, 10]], [1, 0], [0.9, 0.8])], [_gt([[0, 0, 10, 10]], [0])])
    m = metric.compute().numpy()
    assert m[0, 0] == 1 and m[BG, 1] == 1 and m.sum() == 2


def test_images_without_truth_or_predictions_and_crowd_truths():
    metric = DetectionConfusion(2)
    metric.update([_pred([[0, 0, 5, 5]], [1], [0.9]), _pred([], [], []), _pred([], [], [])],
                  [_gt(np.zeros((0, 4)), []), _gt([[0, 0, 5, 5]], [0]), _gt([[0, 0, 5, 5]], [1], crowd=[1])])
    m = metric.compute().numpy()
    assert m[BG, 1] == 1 and m[0, BG] == 1 and m.sum() == 2  # the crowd dog counts nowhere


def test_figures_label_background_and_bad_threshold_is_named(tmp_path):
    m = np.array([[3, 1, 1], [0, 2, 0], [2, 0, 0]])
    figures = confusion_figures(m, ["cat", "dog"], 0.25, 0.5)
    assert set(figures) == {"confusion_matrix", "confusion_matrix_normalized"}
    ax = figures["confusion_matrix"].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "background"]
    figures["confusion_matrix_normalized"].savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
    with pytest.raises(ConfigError, match=r"model.confusion_score_threshold: 1.5 must be in \[0, 1\)"):
        DetectionConfusion(2, score_threshold=1.5)


def test_per_class_rows_take_ap_from_the_map_and_precision_recall_from_the_matrix():
    from visiontrain.models.shared.detection_metrics import make_map
    from visiontrain.results.class_tables import detection_rows

    metric = make_map(class_metrics=True)
    gt, pred = _gt([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 1]), _pred([[0, 0, 10, 10]], [0], [0.9])
    metric.update([pred], [gt])
    confusion = DetectionConfusion(2)
    confusion.update([pred], [gt])
    rows = detection_rows(metric.compute(), confusion.compute().numpy(), ["cat", "dog"])
    assert rows[0] == ["cat", 1.0, 1.0, 1.0, 1.0, 1]
    assert rows[1][0] == "dog" and rows[1][1:3] == [0.0, 0.0] and rows[1][4] == 0.0 and rows[1][5] == 1
    assert rows[1][3] is None  # dog never predicted: no precision, not 0


def _random_images(n: int, seed: int, num_classes: int = 3):
    """``n`` images of random truths and noisy predictions around them (hits, confusions, misses, false positives)."""
    g = torch.Generator().manual_seed(seed)
    preds, targets = [], []
    for _ in range(n):
        k = int(torch.randint(0, 5, (1,), generator=g))
        xy = torch.rand(k, 2, generator=g) * 80
        boxes = torch.cat([xy, xy + 10 + torch.rand(k, 2, generator=g) * 20], dim=1)
        labels = torch.randint(0, num_classes, (k,), generator=g)
        keep = torch.rand(k, generator=g) > 0.2  # some truths are missed
        jitter = boxes[keep] + torch.randn(int(keep.sum()), 4, generator=g) * 2
        extra = torch.rand(int(torch.randint(0, 3, (1,), generator=g)), 2, generator=g) * 80  # false positives
        p_boxes = torch.cat([jitter, torch.cat([extra, extra + 15], dim=1)])
        flip = torch.rand(len(p_boxes), generator=g) < 0.3  # some predicted with another class
        p_labels = torch.cat([labels[keep], torch.randint(0, num_classes, (len(extra),), generator=g)])
        p_labels = torch.where(flip, torch.randint(0, num_classes, (len(p_boxes),), generator=g), p_labels)
        preds.append({"boxes": p_boxes, "labels": p_labels, "scores": torch.rand(len(p_boxes), generator=g)})
        targets.append({"boxes": boxes, "labels": labels, "iscrowd": torch.zeros(k, dtype=torch.long)})
    return preds, targets


def _ddp_rank(rank: int, world: int, store: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        preds, targets = _random_images(13, seed=0)
        metric = DetectionConfusion(3)
        # each rank its own share, of unequal size (5 and 8 images), in two updates (as validation batches)
        mine = [i for i in range(13) if (i % 3 == 0) == (rank == 0)]
        half = len(mine) // 2
        for part in (mine[:half], mine[half:]):
            metric.update([preds[i] for i in part], [targets[i] for i in part])
        local = metric.matrix.clone()
        synced = metric.compute()  # torchmetrics sums the state across the process group
        torch.save({"local": local, "synced": synced, "after": metric.matrix.clone()}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_ddp_processes_sum_their_matrices_to_the_one_of_all_images(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_rank, args=(2, str(tmp_path / "store"), str(tmp_path / "out")), nprocs=2, join=True)
    preds, targets = _random_images(13, seed=0)
    whole = DetectionConfusion(3)
    whole.update(preds, targets)
    expected = whole.compute()
    assert expected.sum() > 20 and (expected[:3, 3] > 0).any() and (expected[3, :3] > 0).any()  # misses and FPs
    results = [torch.load(tmp_path / f"out.{rank}") for rank in range(2)]
    assert not torch.equal(results[0]["local"], results[1]["local"])  # the ranks saw different images
    assert torch.equal(results[0]["local"] + results[1]["local"], expected)
    for r in results:
        assert torch.equal(r["synced"], expected), (r["synced"], expected)
        assert torch.equal(r["after"], r["local"])  # compute() leaves each rank's own counts for the next epoch
