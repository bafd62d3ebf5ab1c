"""PR and F1-vs-confidence curves from torchmetrics' extended mAP summary (no training: boxes made up here)."""

import numpy as np
import torch

from visiontrain.models.shared.detection_metrics import flatten, make_map
from visiontrain.results.detection_figures import curves, f1_figure, f1_points, pr_figure


def _result():
    metric = make_map(class_metrics=True)
    gen = torch.Generator().manual_seed(0)
    for _ in range(6):
        gt = torch.tensor([[10, 10, 50, 50], [60, 60, 90, 95]], dtype=torch.float)
        noisy = gt + torch.randn(gt.shape, generator=gen) * 3
        preds = {"boxes": torch.cat([noisy, torch.tensor([[0, 0, 20, 20.0]])]),
                 "scores": torch.tensor([0.9, 0.6, 0.4]), "labels": torch.tensor([0, 1, 1])}
        metric.update([preds], [{"boxes": gt, "labels": torch.tensor([0, 1]), "iscrowd": torch.zeros(2).long()}])
    return metric.compute()


def test_curves_per_class_match_the_reported_ap50():
    result = _result()
    per_class = curves(result, ["circle", "square"])
    assert set(per_class) == {"circle", "square"}
    p, s = per_class["circle"]
    assert p.shape == (101,) and p.max() <= 1 and s.max() <= 1
    # COCO's AP50 is the mean of the 101-point precision: the curve drawn is the one behind the number
    mean = np.mean([p for p, _ in per_class.values()], axis=0).mean()
    assert mean == np.float32(mean) and abs(mean - float(result["map_50"])) < 1e-4
    assert "val/map_50" in flatten(result, "val", ["circle", "square"])  # the scalar metrics are unchanged


def test_f1_points_follow_confidence_and_figures_draw(tmp_path):
    per_class = curves(_result(), ["circle", "square"])
    x, y = f1_points(*per_class["square"])
    assert len(x) and (np.diff(x) <= 0).all() and y.max() <= 1
    for draw in (pr_figure, f1_figure):
        fig = draw(per_class)
        fig.savefig(tmp_path / "f.png")
        assert len(fig.axes[0].lines) == 3  # two classes and all classes
    assert (tmp_path / "f.png").stat().st_size > 10_000
