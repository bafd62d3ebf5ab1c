"""experiment=det_shapes_yolo composed from the real config, shrunk to a few CPU batches; ONNX export checked."""

import json

import numpy as np
import pytest

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job

TINY = ("experiment=det_shapes_yolo", "data.source.num_train=8", "data.source.num_val=4", "data.source.num_test=4",
        "data.source.image_size=96", "data.source.min_size=0.25", "data.img_size=64", "data.batch_size=4",
        "data.close_mosaic=1", "trainer.max_epochs=2", "trainer.limit_train_batches=2", "model.log_images=0",
        "model.scale=n")


@pytest.fixture(scope="module")
def yolo_run(tmp_path_factory, data_dir):
    tmp = tmp_path_factory.mktemp("yolo")
    cfg = compose_cfg([*FAST, *TINY], tmp, data_dir)
    value = run_job(cfg, train)
    return value, json.loads((tmp / "run" / "metrics.json").read_text()), tmp / "run"


def test_vt_train_few_batches_writes_map_metrics(yolo_run):
    value, record, _ = yolo_run
    assert record["status"] == "finished", record
    m = record["metrics"]
    keys = {"val/map", "val/map_50", "val/map_75", "test/map", "test/map_50", "test/map_75"}
    assert keys <= set(m) and {"train/loss", "train/loss_dfl", "val/loss", "test/ap/circle"} <= set(m)
    assert all(0 <= m[k] <= 1 for k in keys) and np.isfinite(m["train/loss"])
    assert value == pytest.approx(m["val/map_50"])
    # the loss terms' epoch means (summed by the module, logged once per epoch) add up to Lightning's own
    # epoch mean of the total
    terms = m["train/loss_box"] + m["train/loss_cls"] + m["train/loss_dfl"]
    assert terms == pytest.approx(m["train/loss_epoch"], rel=1e-5)


def test_run_dir_has_results_and_pr_f1_curves(yolo_run):
    from visiontrain.results.table import read_rows

    _, _, run = yolo_run
    rows = read_rows(run / "results.csv")
    assert [r["epoch"] for r in rows] == [0, 1] and {"val/map", "train/loss_box", "lr/bias"} <= set(rows[0])
    for name in ("results.png", "BoxPR_curve.png", "BoxF1_curve.png", "test_BoxPR_curve.png", "test_BoxF1_curve.png"):
        assert (run / name).stat().st_size > 5_000, name


def test_checkpoint_predicts_in_original_coordinates_and_exports_to_onnx(yolo_run, tmp_path):
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    _, _, run = yolo_run
    ckpt = run / "checkpoints" / "last.ckpt"
    module = load_module(ckpt, read_stored_config(ckpt))
    assert module.hparams.img_size == 64 and module.class_names == ["circle", "square", "triangle", "star"]
    images = [np.zeros((50, 130, 3), np.uint8), np.zeros((90, 40), np.uint8), np.zeros((33, 33, 4), np.uint8)]
    for im, det in zip(images, module.predict(images)):
        h, w = im.shape[:2]
        assert det["boxes"].shape[1] == 4 and len(det["boxes"]) == len(det["scores"]) == len(det["labels"])
        assert (det["boxes"][:, [0, 2]] <= w).all() and (det["boxes"][:, [1, 3]] <= h).all()
    pytest.importorskip("onnxruntime")
    from visiontrain.models.yolo.export import export_onnx

    result = export_onnx(module, tmp_path / "yolo.onnx")
    assert result["max_abs_diff"] <= 1e-3


def test_bad_yolo_config_is_one_config_error(tmp_path, data_dir):
    from visiontrain.errors import ConfigError
    from visiontrain.config.validation import validate_config

    cfg = compose_cfg([*FAST, *TINY, "model.scale=x"], tmp_path, data_dir)
    with pytest.raises(ConfigError, match="model.scale.*valid choices"):
        validate_config(cfg)
    cfg = compose_cfg([*FAST, *TINY, "data.img_size=100"], tmp_path, data_dir)
    from hydra.utils import instantiate

    with pytest.raises(Exception, match="multiple of 32"):
        instantiate(cfg.data)


def test_vt_predict_writes_coco_results_in_the_files_own_pixels(yolo_run, tmp_path):
    """vt-predict on a YOLO checkpoint: the boxes it writes are the module's predict() boxes, in file pixels."""
    from PIL import Image

    from helpers import run_cli
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    _, _, run = yolo_run
    ckpt = run / "checkpoints" / "last.ckpt"
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in {"wide.png": (60, 150), "tall.png": (120, 45)}.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / name)
    out = tmp_path / "pred"
    proc = run_cli("predict", [f"ckpt_path={ckpt}", f"input={folder}", f"out_dir={out}", "progress_bar=false",
                               f"paths.log_dir={tmp_path}/outputs", "options.overlays=false",
                               "options.score_threshold=0.001"], cwd=tmp_path)  # the model's conf_threshold
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = {im["id"]: im for im in json.loads((out / "images.json").read_text())["images"]}
    results = json.loads((out / "predictions.json").read_text())
    assert results, "a barely trained model still scores boxes above conf_threshold 0.001"
    module = load_module(ckpt, read_stored_config(ckpt))
    for image_id, im in table.items():
        expected = module.predict([str(folder / im["file_name"])])[0]
        mine = [r for r in results if r["image_id"] == image_id]
        assert len(mine) == len(expected["boxes"])
        boxes = expected["boxes"].numpy()
        for r in mine:  # the same boxes, whatever the order of equal scores
            x, y, w, h = r["bbox"]
            assert np.abs(boxes - [x, y, x + w, y + h]).max(axis=1).min() < 1e-3
            assert x + w <= im["width"] + 1e-3 and y + h <= im["height"] + 1e-3
