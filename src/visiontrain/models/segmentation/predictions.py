"""Segmentation predictions: a class-index mask PNG per image at the image's own size (``masks/``), a colour
overlay (``overlays/``) and ``predictions.json`` (mask path and pixel fraction per class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from visiontrain.families.predictions import PredictionWriter, read_rgb, save_png, write_json
from visiontrain.models.segmentation.overlays import colours


class MaskPredictionWriter(PredictionWriter):
    def __init__(self, out_dir, files, root, options, class_names: list[str]) -> None:
        super().__init__(out_dir, files, root, options)
        self.class_names, self.records = list(class_names), []
        self.table = colours(len(class_names))

    def write(self, files: list[Path], images, probs: torch.Tensor) -> None:
        alpha = float(self.options.get("alpha", 0.5))
        for file, p in zip(files, probs.float().cpu()):
            original = read_rgb(file)
            h, w = original.shape[:2]
            # probabilities, not labels, are resized back: the mask keeps smooth borders at the original size
            mask = F.interpolate(p[None], size=(h, w), mode="bilinear", align_corners=False)[0].argmax(0)
            mask = mask.numpy().astype(np.uint8)
            mask_path = self.output_path(file, "masks", ".png")
            save_png(mask_path, mask)
            if self.options.get("overlays", True):
                blend = np.where(mask[..., None] > 0, (1 - alpha) * original + alpha * self.table[mask], original)
                save_png(self.output_path(file, "overlays", ".png"), blend.astype(np.uint8))
            counts = np.bincount(mask.ravel(), minlength=len(self.class_names)) / mask.size
            self.records.append({"file": self.relative(file), "mask": mask_path.relative_to(self.out_dir).as_posix(),
                                 "class_fractions": {n: float(c) for n, c in zip(self.class_names, counts)}})

    def finish(self) -> dict:
        path = write_json(self.out_dir / "predictions.json", self.records)
        return {"files": [path, self.out_dir / "masks"]}
