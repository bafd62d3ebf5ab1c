"""Classification predictions: ``predictions.json``, one record per file: class, score and the top-k classes."""

from __future__ import annotations

from pathlib import Path

import torch

from visiontrain.families.predictions import PredictionWriter, write_json


class ClassPredictionWriter(PredictionWriter):
    def __init__(self, out_dir, files, root, options, class_names: list[str]) -> None:
        super().__init__(out_dir, files, root, options)
        self.class_names, self.records = list(class_names), []

    def write(self, files: list[Path], images, probs: torch.Tensor) -> None:
        k = min(int(self.options.get("top_k", 5)), probs.shape[1])
        scores, idx = probs.float().cpu().topk(k, dim=1)
        for file, s, i in zip(files, scores.tolist(), idx.tolist()):
            self.records.append({"file": self.relative(file), "class": self.class_names[i[0]], "score": s[0],
                                 "top_k": [{"class": self.class_names[c], "score": v} for c, v in zip(i, s)]})

    def finish(self) -> dict:
        path = write_json(self.out_dir / "predictions.json", self.records)
        return {"files": [path]}


class BoxPredictionWriter(ClassPredictionWriter):
    """Single-object localization: class, score and one box (``bbox`` xywh in the file's pixels)."""

    def write(self, files: list[Path], images, rows: torch.Tensor) -> None:
        from visiontrain.families.predictions import read_rgb

        for file, r in zip(files, rows.float().cpu().tolist()):
            h, w = read_rgb(file).shape[:2]  # the model answers in [0, 1] image coordinates
            self.records.append({"file": self.relative(file), "class": self.class_names[int(r[4])], "score": r[5],
                                 "bbox": [r[0] * w, r[1] * h, r[2] * w, r[3] * h]})
