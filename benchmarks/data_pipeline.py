"""Data pipeline: images/s through the classification (digits) and detection (shapes-det) datamodules' training
loaders with their Albumentations pipelines vs the same datasets with an equivalent torchvision.transforms.v2
pipeline, same readers, batch size and workers (target ratio >= 1.2)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import torch
from _common import alternate, describe, median, now, parser
from torchvision import tv_tensors
from torchvision.transforms import v2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

p = parser(__doc__)
p.add_argument("--workers", type=int, default=0)
p.add_argument("--image-size", type=int, default=64, help="classification resize target")
p.add_argument("--det-images", type=int, default=60)
args = p.parse_args()
torch.set_num_threads(1)  # what a DataLoader worker runs with; two threads per op thrash on a shared 2-core machine
TMP = Path("/tmp/vt_bench_data")


class ClsV2:
    """Resize → (p=0.5) Affine(scale 0.9-1.1, rotate ±10°, translate ±5%) → float: data/base/classification.yaml."""

    def __init__(self, size):
        self.t = v2.Compose([v2.ToImage(), v2.Resize((size, size), antialias=True),
                             v2.RandomApply([v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1))],
                                            p=0.5), v2.ToDtype(torch.float32, scale=True)])

    def __call__(self, image):
        return {"image": self.t(image)}


class DetV2:
    """HorizontalFlip(0.5) → (p=0.5) ColorJitter(0.2, 0.2, 0.2, 0.05) → float: data/base/detection.yaml."""

    t = v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(0.5),
                    v2.RandomApply([v2.ColorJitter(0.2, 0.2, 0.2, 0.05)], p=0.5), v2.ToDtype(torch.float32, scale=True)])

    def __call__(self, image, bboxes, index, **_):
        h, w = image.shape[:2]
        boxes = tv_tensors.BoundingBoxes(torch.as_tensor(np.asarray(bboxes), dtype=torch.float32).reshape(-1, 4),
                                         format="XYXY", canvas_size=(h, w))
        img, boxes = self.t(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1), boxes)
        return {"image": img, "bboxes": boxes.numpy(), "index": index}


def rate(loader_fn):
    def fn():
        n, t = 0, now()
        for images, _ in loader_fn():
            n += len(images)
        return n / (now() - t)
    return fn


def bench(name, dm, ds, v2_transform, collate=None):
    from torch.utils.data import DataLoader

    ds_v2 = copy.copy(ds)
    ds_v2.transform = v2_transform
    kw = {"batch_size": dm.batch_size, "shuffle": True, "num_workers": args.workers}
    if collate:
        kw["collate_fn"] = collate
    rates = alternate({"torchvision.v2": rate(lambda: DataLoader(ds_v2, **kw)),
                       "albumentations": rate(lambda: DataLoader(ds, **kw))}, args.repeats)
    a, b = median(rates["albumentations"]), median(rates["torchvision.v2"])
    print(f"{name}: albumentations {a:.0f} img/s, torchvision.v2 {b:.0f} img/s · ratio {a / b:.2f} (target >= 1.2)")


print(f"device: {describe(args.device)} (data loading runs on the CPU; --device is recorded only) · "
      f"workers {args.workers}")
from hydra.utils import instantiate

cfg = compose_cfg(["data=digits", f"data.image_size={args.image_size}"], TMP / "cls", data_dir=TMP / "data")
dm = instantiate(cfg.data)
dm.prepare_data()
dm.setup("fit")
bench(f"classification digits {args.image_size}px", dm, dm._dataset("train", dm.train_transform), ClsV2(args.image_size))

cfg = compose_cfg(["data=shapes_det", f"data.source.num_train={args.det_images}", "data.source.num_val=4",
                   "data.source.num_test=4", "data.source.root=" + str(TMP / f"shapes_det_{args.det_images}")],
                  TMP / "det", data_dir=TMP / "data")
dm = instantiate(cfg.data)
dm.prepare_data()
dm.setup("fit")
from visiontrain.data.detection import collate

bench("detection shapes-det 256px", dm, dm._dataset("train"), DetV2(), collate)
