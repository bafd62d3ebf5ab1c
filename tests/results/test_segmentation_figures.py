"""Segmentation figures from the IoU metric's own pixel confusion matrix."""

import numpy as np
import pytest
import torch

from visiontrain.models.segmentation.metrics import SegmentationMetrics
from visiontrain.results.segmentation_figures import confusion_figure, iou_figure, iou_from_confusion


def test_iou_from_the_confusion_matrix_is_the_reported_iou(tmp_path):
    names = ["background", "circle", "square"]
    metrics = SegmentationMetrics(names, ignore_index=255)
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (4, 16, 16), generator=gen)
    preds = torch.where(torch.rand(target.shape, generator=gen) < 0.7, target, torch.randint(0, 3, target.shape))
    target[0, :2] = 255  # ignored pixels are in neither
    metrics.update(preds, target)
    matrix = metrics.iou.confmat.numpy()
    assert matrix.sum() == 4 * 16 * 16 - 32
    reported = metrics.compute("val")
    iou = iou_from_confusion(matrix)
    assert iou == pytest.approx([float(reported[f"val/iou/{n}"]) for n in names])
    for draw, arg in ((confusion_figure, matrix), (iou_figure, iou)):
        fig = draw(arg, names)
        fig.savefig(tmp_path / "f.png")
        assert (tmp_path / "f.png").stat().st_size > 10_000


def test_absent_class_is_nan_not_zero():
    iou = iou_from_confusion(np.array([[5, 0], [0, 0]]))
    assert iou[0] == 1.0 and np.isnan(iou[1])


def test_classification_precision_and_recall_per_class(tmp_path):
    from visiontrain.results.classification_figures import precision_recall, precision_recall_figure

    matrix = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 0]])  # rows true, columns predicted; class 2 never seen
    precision, recall = precision_recall(matrix)
    assert precision[:2] == pytest.approx([8 / 9, 9 / 11]) and recall[:2] == pytest.approx([0.8, 0.9])
    assert np.isnan(precision[2]) and np.isnan(recall[2])
    precision_recall_figure(torch.tensor(matrix), ["a", "b", "c"]).savefig(tmp_path / "pr.png")
    assert (tmp_path / "pr.png").stat().st_size > 5_000
