"""YOLO predictions for `vt-predict`: the same files as torchvision's detectors (COCO results JSON, images.json,
overlays). The images go to the module as read (uint8 RGB arrays): its ``predict`` letterboxes them exactly as
validation does and returns boxes in each file's own pixels."""

from __future__ import annotations

import numpy as np

from visiontrain.families.predictions import PredictImages
from visiontrain.models.shared.detection_predictions import DetectionPredictionWriter


def _as_read(image: np.ndarray) -> dict:
    return {"image": image}


class YoloPredictionWriter(DetectionPredictionWriter):
    def dataset(self, stored) -> PredictImages:
        return PredictImages(self.files, _as_read)  # letterboxing happens in the module, as for its own predict()

    def input_size(self, image) -> tuple[int, int]:
        return int(image.shape[0]), int(image.shape[1])  # the file as read (HxWx3): boxes are already in its pixels
