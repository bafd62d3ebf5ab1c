"""mAP evaluation time: torchmetrics MeanAveragePrecision with the faster_coco_eval vs the pycocotools backend, on
the same random predictions (default 5,000 images x 10 boxes, 5 classes)."""

from __future__ import annotations

import torch
from _common import alternate, describe, median, now, parser

p = parser(__doc__)
p.add_argument("--images", type=int, default=5000)
p.add_argument("--boxes", type=int, default=10)
args = p.parse_args()
g = torch.Generator().manual_seed(0)


def boxes(n):
    xy = torch.rand(n, 2, generator=g) * 200
    return torch.cat([xy, xy + 10 + torch.rand(n, 2, generator=g) * 50], 1)


gts = [{"boxes": boxes(args.boxes), "labels": torch.randint(0, 5, (args.boxes,), generator=g)}
       for _ in range(args.images)]
preds = [{"boxes": gt["boxes"] + torch.randn(args.boxes, 4, generator=g) * 4, "scores": torch.rand(args.boxes, generator=g),
          "labels": torch.where(torch.rand(args.boxes, generator=g) < 0.8, gt["labels"], torch.randint(0, 5, (args.boxes,), generator=g))}
         for gt in gts]
results = {}


def run(backend):
    from torchmetrics.detection import MeanAveragePrecision

    def fn():
        metric = MeanAveragePrecision(backend=backend)  # bbox mAP, COCO semantics; evaluation runs on CPU
        t = now()
        metric.update(preds, gts)
        results[backend] = metric.compute()
        return now() - t
    return fn


print(f"device: {describe(args.device)} (COCO evaluation runs on the CPU either way)")
times = alternate({"pycocotools": run("pycocotools"), "faster_coco_eval": run("faster_coco_eval")}, args.repeats)
a, b = median(times["pycocotools"]), median(times["faster_coco_eval"])
same = all(torch.allclose(results["pycocotools"][k].float(), results["faster_coco_eval"][k].float(), atol=1e-6)
           for k in ("map", "map_50", "map_75"))
print(f"{args.images} images x {args.boxes} boxes: pycocotools {a:.2f} s, faster_coco_eval {b:.2f} s · "
      f"speed-up {a / b:.2f}x · map {float(results['faster_coco_eval']['map']):.4f} · identical results: {same}")
