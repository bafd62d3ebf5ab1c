"""vt-predict's detection JSON holds the boxes at the score threshold asked for, not every candidate."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from visiontrain.models.shared.detection_predictions import DetectionPredictionWriter


@pytest.mark.parametrize("threshold, kept", [(0.5, [0.9]), (0.001, [0.9, 0.4, 0.01])])
def test_predictions_json_keeps_boxes_at_the_threshold(tmp_path, threshold, kept):
    file = tmp_path / "a.png"
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(file)
    writer = DetectionPredictionWriter(tmp_path / "out", [file], tmp_path,
                                       {"score_threshold": threshold, "overlays": True}, ["cat"], [7])
    pred = {"boxes": torch.tensor([[1.0, 2, 10, 20]] * 3), "scores": torch.tensor([0.9, 0.4, 0.01]),
            "labels": torch.zeros(3, dtype=torch.long)}
    writer.write([file], [torch.zeros(3, 40, 50)], [pred])
    writer.finish()
    results = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert [r["score"] for r in results] == pytest.approx(kept)
    assert {r["category_id"] for r in results} == {7}
    assert (tmp_path / "out" / "overlays" / "a.png").is_file()
