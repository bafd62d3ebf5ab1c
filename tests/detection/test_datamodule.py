"""Datamodule: augmentation moves boxes and masks together and counts what it drops; training leaves out crowd
and difficult objects; collate and the aspect-ratio grouped sampler."""

import albumentations as A
import numpy as np
import torch
from torch.utils.data import RandomSampler
from torch.utils.data.distributed import DistributedSampler

from det_helpers import small_shapes
from visiontrain.data.augment import build_pipeline
from visiontrain.data.detection import DetectionDataModule, DetectionDataset, GroupedBatchSampler, collate


def test_flip_moves_boxes_and_masks_together(tmp_path):
    source = small_shapes(tmp_path / "s")
    dm = DetectionDataModule(source, train_transforms=[A.HorizontalFlip(p=1.0)], with_masks=True, batch_size=3)
    dm.prepare_data()
    dm.setup("fit")
    images, targets = next(iter(dm.train_dataloader()))
    assert len(images) == len(targets) == 3
    for image, t in zip(images, targets):
        assert image.dtype == torch.float32 and image.shape == (3, 96, 96) and 0 <= image.min() <= image.max() <= 1
        assert t["masks"].shape == (len(t["labels"]), 96, 96) and t["masks"].dtype == torch.uint8
        for m, box in zip(t["masks"], t["boxes"]):  # boxes stay the extents of the flipped masks
            ys, xs = torch.nonzero(m, as_tuple=True)
            assert [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1] == box.round().int().tolist()


def test_crop_drops_boxes_counts_them_and_keeps_masks_aligned(tmp_path):
    source = small_shapes(tmp_path / "s")
    index = source.load_index()
    transform = build_pipeline([A.Crop(0, 0, 40, 40)], bbox_params=A.BboxParams(
        format="pascal_voc", label_fields=["index"], min_area=4, clip=True, filter_invalid_bboxes=True))
    ds = DetectionDataset(index, index.splits["train"], transform, with_masks=True, training=True,
                          keep_difficult=False, on_bad_sample="error")
    before = sum(len(index.records[j].labels) for j in index.splits["train"])
    after = sum(len(ds[i][1]["labels"]) for i in range(len(ds)))
    assert after < before and ds.dropped["boxes dropped by augmentation"] == before - after
    for i in range(len(ds)):
        image, t = ds[i]
        assert image.shape == (3, 40, 40) and len(t["masks"]) == len(t["boxes"]) == len(t["area"])
        assert (t["boxes"] >= 0).all() and (t["boxes"] <= 40).all()


def test_training_leaves_out_crowd_and_difficult_evaluation_keeps_them(tmp_path):
    index = small_shapes(tmp_path / "s").load_index()
    rec = next(r for r in index.records if len(r.labels) >= 2)
    rec.iscrowd[0], rec.difficult[1] = 1, True
    j = index.records.index(rec)
    args = dict(transform=build_pipeline([], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["index"])),
                with_masks=False, keep_difficult=False, on_bad_sample="error")
    train_t = DetectionDataset(index, np.array([j]), training=True, **args)[0][1]
    eval_t = DetectionDataset(index, np.array([j]), training=False, **args)[0][1]
    assert len(train_t["labels"]) == len(rec.labels) - 2
    assert len(eval_t["labels"]) == len(rec.labels)
    assert eval_t["iscrowd"][0] == 1 and bool(eval_t["difficult"][1])


def test_collate_keeps_sizes_and_grouped_sampler_batches_by_aspect_ratio():
    images, targets = collate([(torch.zeros(3, 10, 20), {"a": 1}), (torch.zeros(3, 30, 5), {"a": 2})])
    assert [im.shape for im in images] == [(3, 10, 20), (3, 30, 5)] and targets == [{"a": 1}, {"a": 2}]
    ratios = np.array([2.0, 0.5, 2.0, 0.5, 1.5, 0.6, 2.0, 0.5, 2.0])
    sampler = GroupedBatchSampler(RandomSampler(range(9)), ratios, batch_size=2)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 4 and all(len(b) == 2 for b in batches)
    seen = [i for b in batches for i in b]
    assert len(set(seen)) == 8  # one remainder image waits for the next epoch
    assert sum(len({ratios[i] >= 1 for i in b}) == 1 for b in batches) >= 3  # at most one mixed batch


def test_grouped_sampler_gives_every_ddp_rank_the_same_number_of_batches_from_its_own_shard():
    rng = np.random.default_rng(0)
    ratios = rng.choice([0.5, 0.75, 1.33, 2.0], size=37, p=[0.6, 0.1, 0.1, 0.2])
    per_rank = []
    for rank in (0, 1):
        shard = DistributedSampler(range(37), num_replicas=2, rank=rank, shuffle=True, seed=3)
        batches = list(GroupedBatchSampler(shard, ratios, batch_size=4))
        assert len(batches) == 19 // 4  # DistributedSampler pads both shards to 19
        assert set(i for b in batches for i in b) <= set(shard)
        per_rank.append(batches)
    assert len(per_rank[0]) == len(per_rank[1])
