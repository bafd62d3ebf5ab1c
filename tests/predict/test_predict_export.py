"""vt-predict and vt-export as users run them (python -m, from another working directory)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import compose_cfg, run_cli
from visiontrain.export import export
from visiontrain.run.job import run_job


def _predict(ckpt: Path, input_path: Path, tmp_path: Path, *extra: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "pred"
    result = run_cli("predict", [f"ckpt_path={ckpt}", f"input={input_path}", f"out_dir={out}",
                                 f"paths.log_dir={tmp_path}/outputs", "progress_bar=false", *extra], cwd=tmp_path)
    return result, out


def test_classifier_folder_and_file(classifier_ckpt, image_folder, tmp_path):
    result, out = _predict(classifier_ckpt, image_folder, tmp_path, "options.top_k=3")
    assert result.returncode == 0, result.stderr[-2000:]
    records = json.loads((out / "predictions.json").read_text())
    assert sorted(r["file"] for r in records) == ["a.png", "b.jpg", "sub/c.png"]
    for r in records:
        assert r["class"] in [str(d) for d in range(10)]
        assert len(r["top_k"]) == 3 and r["top_k"][0] == {"class": r["class"], "score": r["score"]}
        scores = [t["score"] for t in r["top_k"]]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-5

    single, out1 = _predict(classifier_ckpt, image_folder / "sub" / "c.png", tmp_path / "one")
    assert single.returncode == 0, single.stderr[-2000:]
    (only,) = json.loads((out1 / "predictions.json").read_text())
    assert only["file"] == "c.png"
    # the same file gives the same answer alone as in a batch of differently sized images
    assert only["top_k"][0]["class"] == next(r for r in records if r["file"] == "sub/c.png")["class"]
    assert only["score"] == pytest.approx(next(r for r in records if r["file"] == "sub/c.png")["score"], abs=1e-5)


def test_bad_input_is_one_line_error(classifier_ckpt, tmp_path):
    result, _ = _predict(classifier_ckpt, tmp_path / "nope", tmp_path)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: input={tmp_path / 'nope'}: no such file or folder"], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_segmenter_masks(segmenter_ckpt, image_folder, tmp_path):
    result, out = _predict(segmenter_ckpt, image_folder, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    mask = np.asarray(Image.open(out / "masks" / "sub" / "c.png"))
    assert mask.shape == (40, 30) and mask.dtype == np.uint8 and mask.max() <= 4  # original size, class ids
    assert (out / "overlays" / "a.png").is_file()
    records = json.loads((out / "predictions.json").read_text())
    assert len(records) == 3
    assert all(sum(r["class_fractions"].values()) == pytest.approx(1.0) for r in records)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("which", ["classifier_ckpt", "segmenter_ckpt"])
def test_export_matches_pytorch(fmt, which, request, tmp_path):
    ckpt = request.getfixturevalue(which)
    out = tmp_path / f"model.{fmt}"
    # in-process (the CLI path is the same run_job as vt-predict's, tested above): keeps the suite fast
    cfg = compose_cfg([f"ckpt_path={ckpt}", f"format={fmt}", f"output={out}"], tmp_path, config_name="export")
    run_job(cfg, export)  # raises if the command's own check (atol 1e-4, rtol 1e-3) fails
    assert out.is_file()
    # and independently of the command's own check: run it here on a batch size it never saw
    import torch

    from visiontrain.weights.checkpoints import load_module, read_stored_config

    stored = read_stored_config(ckpt)
    net = load_module(ckpt, stored).export_model().eval()
    size = stored["data"]["image_size"]
    x = torch.rand(5, 3, size, size)
    with torch.no_grad():
        expected = net(x).numpy()
    if fmt == "onnx":
        import onnxruntime as ort

        got = ort.InferenceSession(str(out)).run(None, {"images": x.numpy()})[0]
    else:
        got = torch.jit.load(str(out)).eval()(x).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-3)


def test_export_refuses_unknown_format(classifier_ckpt, tmp_path):
    cfg = compose_cfg([f"ckpt_path={classifier_ckpt}", "format=tflite"], tmp_path, config_name="export")
    with pytest.raises(SystemExit) as exc:
        run_job(cfg, export)
    assert exc.value.code == 1
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["error"] == (
        "format: 'tflite' is not a valid choice; valid choices: 'onnx', 'torchscript'")


@pytest.mark.slow
def test_detector_coco_results_keep_dataset_ids(tmp_path):
    """shapes-det's COCO file has sparse category ids (1, 3, 5, 7): the results must use them, not 0..K-1."""
    from helpers import FAST
    from visiontrain.train import train

    cfg = compose_cfg(["experiment=det_shapes_frcnn", *FAST, "test=false", "trainer.limit_train_batches=2",
                       "trainer.limit_val_batches=1", "data.source.num_train=12", "data.source.num_val=4",
                       "data.source.num_test=4"], tmp_path)
    run_job(cfg, train)
    images = tmp_path / "data" / "shapes_det" / "images" / "test"
    result, out = _predict(tmp_path / "run" / "checkpoints" / "last.ckpt", images, tmp_path / "p",
                           "options.score_threshold=0.0")
    assert result.returncode == 0, result.stderr[-2000:]
    table = json.loads((out / "images.json").read_text())
    assert [c["id"] for c in table["categories"]] == [1, 3, 5, 7]
    results = json.loads((out / "predictions.json").read_text())
    assert results and {r["category_id"] for r in results} <= {1, 3, 5, 7}
    ids = {im["id"] for im in table["images"]}
    assert {r["image_id"] for r in results} <= ids and len(ids) == len(list(images.glob("*.png")))
    assert all(len(r["bbox"]) == 4 and r["bbox"][2] >= 0 for r in results)
    assert len(list((out / "overlays").glob("*.png"))) == len(ids)
