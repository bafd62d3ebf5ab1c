"""Restoration data: crops split by image, seeded evaluation corruption, holes in the mask channel."""

import albumentations as A
import numpy as np
import torch
from PIL import Image

from visiontrain.data.formats.image_files import ImageFiles
from visiontrain.data.holes import FreeFormHoles
from visiontrain.data.restoration import RestorationDataModule


def _folder(tmp_path, n=10):
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (40 + i, 50, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / "small.png")  # < crop
    return ImageFiles(str(tmp_path))


def _dm(tmp_path, **kw):
    dm = RestorationDataModule(_folder(tmp_path), crop_size=32, train_crops=12, eval_crops_per_image=3,
                               batch_size=4, val_fraction=0.2, test_fraction=0.2, **kw)
    dm.setup("fit")
    return dm


def test_images_not_crops_are_split(tmp_path):
    dm = _dm(tmp_path)
    sets = [set(dm.splits[s].tolist()) for s in ("train", "val", "test")]
    assert all(a.isdisjoint(b) for i, a in enumerate(sets) for b in sets[i + 1:])
    assert sum(len(s) for s in sets) == 11


def test_denoise_batches_and_seeded_evaluation(tmp_path):
    noise = [A.GaussNoise(std_range=(0.1, 0.1), p=1.0)]
    dm = _dm(tmp_path, corruption=noise)
    batch = next(iter(dm.train_dataloader()))
    assert batch["input"].shape == batch["target"].shape == (4, 3, 32, 32) and batch["mask"].shape == (4, 1, 32, 32)
    assert batch["mask"].sum() == 0 and not torch.equal(batch["input"], batch["target"])
    noisy_mse = float(((batch["input"] - batch["target"]) ** 2).mean())
    assert 0.003 < noisy_mse < 0.02  # sigma 0.1 (a little less where clipping at 0 and 1 cuts the noise)
    val = dm.val_dataloader().dataset
    a, b = val[1], val[1]
    assert torch.equal(a["input"], b["input"]) and torch.equal(a["target"], b["target"])  # same every epoch
    assert len(val) == 3 * len(dm.splits["val"])


def test_holes_are_marked_in_the_mask(tmp_path):
    holes = [A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(0.3, 0.3), hole_width_range=(0.3, 0.3),
                             fill=0, fill_mask=1, p=1.0)]
    dm = _dm(tmp_path, holes=holes)
    item = dm.test_dataloader().dataset[0]
    assert 0.05 < float(item["mask"].mean()) < 0.2
    assert torch.equal(item["input"], item["target"])  # no corruption: the model fills the holes itself


def test_free_form_holes_are_seeded_by_the_pipeline():
    pipeline = A.Compose([FreeFormHoles(p=1.0)], seed=7)
    image, mask = np.full((48, 48, 3), 200, np.uint8), np.zeros((48, 48), np.uint8)
    first = pipeline(image=image, mask=mask)
    pipeline.set_random_seed(7)
    again = pipeline(image=image, mask=mask)
    assert first["mask"].any() and np.array_equal(first["mask"], again["mask"])
    assert np.array_equal(first["image"][..., 0] == 0, first["mask"] == 1)
