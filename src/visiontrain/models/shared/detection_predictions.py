"""Detection predictions: ``predictions.json`` in COCO results format with the training dataset's own category ids,
``images.json`` (the image_id → file table those results refer to, COCO ``images`` entries) and, with
``options.overlays``, ``overlays/<file>.png`` drawn. Both hold the boxes scoring at least ``options.score_threshold``
(0.3 by default; 0.001 keeps what COCO-style mAP evaluation wants, down to the model's own floor)."""

from __future__ import annotations

from pathlib import Path

import torch

from visiontrain.data.formats.coco import to_coco_results
from visiontrain.families.predictions import PredictionWriter, read_rgb, write_json


class DetectionPredictionWriter(PredictionWriter):
    stack = False  # torchvision detectors take a list of images of any size

    def __init__(self, out_dir, files, root, options, class_names: list[str], category_ids: list[int] | None) -> None:
        super().__init__(out_dir, files, root, options)
        self.class_names = list(class_names)
        # checkpoints from before category ids were stored: COCO's usual 1-based ids in class order
        self.category_ids = list(category_ids) if category_ids else list(range(1, len(class_names) + 1))
        self.results, self.images = [], []

    def write(self, files: list[Path], images, predictions: list[dict]) -> None:
        from torchvision.utils import draw_bounding_boxes

        for file, image, pred in zip(files, images, predictions):
            original = read_rgb(file)
            h, w = original.shape[:2]
            # boxes come in the pixels of the image the model saw: scale back to the file's
            seen_h, seen_w = self.input_size(image)
            scale = torch.tensor([w / seen_w, h / seen_h] * 2)
            pred = {k: v.detach().float().cpu() for k, v in pred.items() if k in ("boxes", "scores", "labels")}
            pred["boxes"] = pred["boxes"] * scale
            pred["labels"] = pred["labels"].long()
            keep = pred["scores"] >= float(self.options.get("score_threshold", 0.3))
            pred = {k: v[keep] for k, v in pred.items()}
            image_id = len(self.images) + 1
            self.images.append({"id": image_id, "file_name": self.relative(file), "width": w, "height": h})
            self.results += to_coco_results([image_id], [pred], self.category_ids)
            if self.options.get("overlays", True):
                labels = [f"{self.class_names[int(c)]} {s:.2f}" for c, s in
                          zip(pred["labels"], pred["scores"].tolist())]
                drawn = draw_bounding_boxes(torch.from_numpy(original.copy()).permute(2, 0, 1), pred["boxes"],
                                            labels=labels, colors="red", width=2)
                from visiontrain.families.predictions import save_png

                save_png(self.output_path(file, "overlays", ".png"), drawn.permute(1, 2, 0).numpy())

    def input_size(self, image) -> tuple[int, int]:
        """(height, width) of the image the model saw (a CxHxW tensor for torchvision's detectors)."""
        return int(image.shape[-2]), int(image.shape[-1])

    def finish(self) -> dict:
        categories = [{"id": i, "name": n} for i, n in zip(self.category_ids, self.class_names)]
        a = write_json(self.out_dir / "predictions.json", self.results)
        b = write_json(self.out_dir / "images.json", {"images": self.images, "categories": categories})
        return {"files": [a, b]}
