"""The YOLO training pipeline's image cache changes speed only: samples equal those read without it."""

import numpy as np
import torch
from hydra.utils import instantiate

from helpers import compose_cfg
from visiontrain.data.resumable_loader import make_resumable
from visiontrain.data.yolo_data import letterbox

DATA = ("experiment=det_shapes_yolo", "data.source.num_train=6", "data.source.num_val=2", "data.source.num_test=2",
        "data.source.image_size=96", "data.img_size=64", "data.batch_size=2")


def _samples(dataset, order, epoch):
    from visiontrain.data.resumable_loader import SeededSamples

    dataset.set_epoch(epoch, 10)
    seeded = SeededSamples(dataset)  # how training reads samples: every RNG seeded per sample
    return [seeded[(i, 1000 * epoch + k)] for k, i in enumerate(order)]


def test_cached_training_samples_equal_uncached_ones(tmp_path, data_dir):
    datasets = {}
    for cache in (0, 3):
        cfg = compose_cfg([*DATA, f"data.image_cache={cache}"], tmp_path / str(cache), data_dir)
        dm = instantiate(cfg.data)
        dm.setup("fit")
        datasets[cache] = dm._dataset("train")
    n = len(datasets[0])
    order = [i % n for i in range(3 * n)]  # each image several times, as primary and as mosaic partner
    for epoch in (0, 9):  # mosaic on, then off (close_mosaic): both paths read through the cache
        plain, cached = _samples(datasets[0], order, epoch), _samples(datasets[3], order, epoch)
        for (a, ta), (b, tb) in zip(plain, cached):
            assert torch.equal(a, b)
            assert torch.equal(ta["boxes"], tb["boxes"]) and torch.equal(ta["labels"], tb["labels"])
    assert len(datasets[3]._cache) == 3 and not datasets[0]._cache


def test_letterbox_of_a_fitted_image_is_the_letterbox_of_the_original():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (90, 130, 3), dtype=np.uint8)
    boxes = np.array([[10.5, 20.25, 60.0, 80.0]], np.float32)
    direct, direct_boxes, params = letterbox(image, 64, boxes)
    from visiontrain.data.yolo_data import fit_long_side

    fitted, sx, sy = fit_long_side(image, 64)
    again, again_boxes, params2 = letterbox(fitted, 64, np.asarray(boxes, np.float64) * [sx, sy, sx, sy])
    assert np.array_equal(direct, again) and np.array_equal(direct_boxes, again_boxes)
    assert params2[0] == params2[1] == 1.0 and np.array_equal(params[2:], params2[2:])


def _training_epochs(workers: int, tmp_path, data_dir) -> list[list[tuple[torch.Tensor, list[torch.Tensor]]]]:
    cfg = compose_cfg([*DATA, f"data.num_workers={workers}"], tmp_path / str(workers), data_dir)
    dm = instantiate(cfg.data)
    dm.setup("fit")
    # the loader as training with callbacks.exact_resume reads it: order and per-sample seeds from the main process
    loader, dataset = make_resumable(dm.train_loader(), seed=3), dm._dataset("train")
    assert loader.persistent_workers is (workers > 0)  # the configs' default: workers start once per run
    epochs = []
    for epoch in (0, 9):  # mosaic on, then off (close_mosaic)
        dataset.set_epoch(epoch, 10)  # what the YOLO module does at every epoch start
        loader.batch_sampler.sampler.set_epoch(epoch)  # and Lightning
        epochs.append([(images, [t["boxes"] for t in targets]) for images, targets in loader])
    return epochs


def test_persistent_workers_switch_mosaic_off_when_the_main_process_does(tmp_path, data_dir):
    # a worker started in epoch 0 keeps its copy of the dataset: the mosaic switch must reach it all the same
    in_workers, in_main = _training_epochs(1, tmp_path, data_dir), _training_epochs(0, tmp_path, data_dir)
    for epoch_workers, epoch_main in zip(in_workers, in_main):
        assert len(epoch_workers) == len(epoch_main) == 3
        for (a, boxes_a), (b, boxes_b) in zip(epoch_workers, epoch_main):
            assert torch.equal(a, b) and all(torch.equal(x, y) for x, y in zip(boxes_a, boxes_b))
