"""Each restoration experiment on the real config tree, shrunk to a few batches of small crops."""

import json

import pytest

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job

SMALL = ("data.source.names=[astronaut,coffee,chelsea,brick,camera,coins]", "data.source.shapes_count=12",
         "data.crop_size=32", "data.eval_crops_per_image=2", "data.batch_size=8", "model.unet.base_width=8")


@pytest.mark.parametrize("experiment, expected", [
    ("restore_denoise", {"test/psnr", "test/ssim", "test/psnr_input", "val/psnr"}),
    ("restore_inpaint", {"test/psnr", "test/ssim", "test/psnr_input", "val/psnr"}),
    ("restore_compress", {"test/psnr", "test/ssim", "test/compression_ratio"}),
])
def test_restoration_experiment_trains(tmp_path, data_dir, experiment, expected):
    small = [o.replace("model.unet", "model.autoencoder") if experiment == "restore_compress" else o for o in SMALL]
    cfg = compose_cfg([*FAST, f"experiment={experiment}", *small], tmp_path, data_dir)
    run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "finished", record.get("error")
    metrics = record["metrics"]
    assert expected <= set(metrics)
    assert all(v == v and abs(v) != float("inf") for v in metrics.values())  # finite: every crop has a hole
    if experiment == "restore_compress":
        assert metrics["test/compression_ratio"] == 12.0
    else:
        assert 10 < metrics["test/psnr_input"] < 40
    assert (tmp_path / "run" / "test_triplets.png").is_file()
