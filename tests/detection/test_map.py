"""The mAP the module logs equals pycocotools' COCOeval run directly on the same files (sparse category ids,
crowd boxes, images without objects), through the reader, the dataset and both torchmetrics backends."""

import json

import numpy as np
import pytest

from det_helpers import write_png
from visiontrain.data.detection import DetectionDataset
from visiontrain.data.augment import build_pipeline
from visiontrain.data.formats.coco import CocoReader, CocoSplit, to_coco_results
from visiontrain.models.shared.detection_metrics import flatten, make_map, metric_inputs

CATEGORY_IDS = [3, 7, 42]
STATS = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1", "mar_10", "mar_100")


def _scene(rng):
    """Ground truth with small/medium/large objects, crowd regions and empty images, and imperfect detections."""
    images, anns, results = [], [], []
    for image_id in range(1, 13):
        w, h = 320, 240
        images.append({"id": image_id, "file_name": f"{image_id}.png", "width": w, "height": h})
        n = 0 if image_id in (4, 9) else int(rng.integers(1, 6))
        for _ in range(n):
            bw, bh = rng.uniform(8, 150, size=2)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            cat = int(rng.choice(CATEGORY_IDS))
            crowd = int(rng.random() < 0.15)
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat, "iscrowd": crowd,
                         "bbox": [x, y, bw, bh], "area": bw * bh * rng.uniform(0.5, 1.0)})
            if rng.random() < 0.85:  # found, more or less well, sometimes with the wrong class
                jitter = rng.normal(0, 0.08, size=4) * [bw, bh, bw, bh]
                box = [x + jitter[0], y + jitter[1], bw + jitter[2], bh + jitter[3]]
                guess = cat if rng.random() < 0.8 else int(rng.choice(CATEGORY_IDS))
                results.append({"image_id": image_id, "category_id": guess, "bbox": box,
                                "score": float(rng.uniform(0.3, 1.0))})
        for _ in range(int(rng.integers(0, 3))):  # false positives, on empty images too
            results.append({"image_id": image_id, "category_id": int(rng.choice(CATEGORY_IDS)),
                            "bbox": [*rng.uniform(0, 150, size=2), *rng.uniform(5, 80, size=2)],
                            "score": float(rng.uniform(0.0, 0.6))})
    cats = [{"id": c, "name": f"c{c}"} for c in CATEGORY_IDS]
    return {"images": images, "annotations": anns, "categories": cats}, results


def _cocoeval(gt: dict, results: list[dict]) -> dict[str, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_gt = COCO()
    coco_gt.dataset = json.loads(json.dumps(gt))
    coco_gt.createIndex()
    evaluator = COCOeval(coco_gt, coco_gt.loadRes(json.loads(json.dumps(results))), "bbox")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return dict(zip(STATS, evaluator.stats[[0, 1, 2, 3, 4, 5, 6, 7, 8]].tolist()))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    gt, results = _scene(np.random.default_rng(0))
    for img in gt["images"]:
        write_png(root / "images" / img["file_name"], img["width"], img["height"])
    (root / "gt.json").write_text(json.dumps(gt))
    index = CocoReader(str(root), CocoSplit("gt.json", "images")).load_index()
    dataset = DetectionDataset(index, np.arange(len(index)), build_pipeline([]), with_masks=False, training=False,
                               keep_difficult=False, on_bad_sample="error")
    targets = [dataset[i][1] for i in range(len(dataset))]
    return gt, results, index, targets


def _predictions(results, index, targets):
    import torch

    preds = []
    for t in targets:
        mine = [r for r in results if r["image_id"] == t["image_id"]]
        xywh = torch.tensor([r["bbox"] for r in mine], dtype=torch.float64).reshape(-1, 4)
        preds.append({"boxes": torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1).float(),
                      "scores": torch.tensor([r["score"] for r in mine]),
                      "labels": torch.tensor([index.category_ids.index(r["category_id"]) for r in mine])})
    return preds


@pytest.mark.parametrize("backend", ["pycocotools", "faster_coco_eval"])
def test_map_equals_cocoeval_run_directly(scene, backend):
    gt, results, index, targets = scene
    assert any(a["iscrowd"] for a in gt["annotations"]) and any(len(t["labels"]) == 0 for t in targets)
    expected = _cocoeval(gt, results)
    metric = make_map(class_metrics=True, backend=backend)
    metric.update(*metric_inputs(_predictions(results, index, targets), targets))
    got = flatten(metric.compute(), "val", index.class_names)
    for key in STATS:
        assert got[f"val/{key}"] == pytest.approx(expected[key], abs=1e-4), key
    assert {f"val/ap/c{c}" for c in CATEGORY_IDS} <= set(got)


def test_results_written_with_category_ids_score_the_same(scene):
    gt, results, index, targets = scene
    preds = _predictions(results, index, targets)
    written = to_coco_results([t["image_id"] for t in targets], preds, index.category_ids)
    assert {r["category_id"] for r in written} <= set(CATEGORY_IDS)
    assert _cocoeval(gt, written) == pytest.approx(_cocoeval(gt, results), abs=1e-6)
