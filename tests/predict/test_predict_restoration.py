"""vt-predict on restoration checkpoints: restored images at the files' own sizes, masks for inpainting, and the
checkpoint's own corruption with options.corrupt."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import run_cli


def _predict(ckpt: Path, input_path: Path, tmp_path: Path, *extra: str):
    out = tmp_path / "pred"
    tmp_path.mkdir(parents=True, exist_ok=True)
    result = run_cli("predict", [f"ckpt_path={ckpt}", f"input={input_path}", f"out_dir={out}",
                                 f"paths.log_dir={tmp_path}/outputs", "progress_bar=false", "batch_size=2", *extra],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return out, json.loads((out / "predictions.json").read_text())


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_denoise_with_the_checkpoints_corruption(denoise_ckpt, image_folder, tmp_path):
    out, records = _predict(denoise_ckpt, image_folder, tmp_path, "options.corrupt=true")
    assert sorted(r["file"] for r in records) == ["a.png", "b.jpg", "sub/c.png"]
    for r in records:
        original = _pixels(image_folder / r["file"])
        restored, noisy = _pixels(out / r["output"]), _pixels(out / r["input"])
        assert restored.shape == noisy.shape == original.shape  # whole images, at their own size
        assert not np.array_equal(noisy, original)  # the stored GaussNoise was applied
        assert math.isfinite(r["psnr"]) and 5 < r["psnr_input"] < 40
    # seeded per file, as validation is: a second run degrades the files identically
    out2, again = _predict(denoise_ckpt, image_folder, tmp_path / "again", "options.corrupt=true")
    assert [r["psnr_input"] for r in again] == [r["psnr_input"] for r in records]
    assert np.array_equal(_pixels(out2 / "inputs" / "a.png"), _pixels(out / "inputs" / "a.png"))


def test_inpaint_fills_only_the_masked_pixels(inpaint_ckpt, image_folder, tmp_path):
    masks = tmp_path / "masks"
    (masks / "sub").mkdir(parents=True)
    holes = {}
    for name in ("a.png", "b.jpg", "sub/c.png"):
        h, w = _pixels(image_folder / name).shape[:2]
        hole = np.zeros((h, w), dtype=np.uint8)
        hole[h // 4: h // 2, w // 4: w // 2] = 255
        Image.fromarray(hole).save((masks / name).with_suffix(".png"))
        holes[name] = hole > 0
    out, records = _predict(inpaint_ckpt, image_folder, tmp_path, f"options.masks={masks}")
    for r in records:
        original, restored = _pixels(image_folder / r["file"]), _pixels(out / r["output"])
        known = ~holes[r["file"]]
        np.testing.assert_array_equal(restored[known], original[known])  # known pixels are kept as they are
        assert not np.array_equal(restored[~known], original[~known])  # the holes were filled by the model
        assert "psnr" not in r  # no clean reference without options.corrupt


def test_inpaint_without_masks_is_one_line_error(inpaint_ckpt, image_folder, tmp_path):
    result = run_cli("predict", [f"ckpt_path={inpaint_ckpt}", f"input={image_folder}", f"out_dir={tmp_path}/p",
                                 f"paths.log_dir={tmp_path}/outputs", "progress_bar=false"], cwd=tmp_path)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: options.masks: an inpainting checkpoint needs the holes")
    assert "Traceback" not in result.stderr


def test_compress_reports_ratio_and_psnr_against_the_file(compress_ckpt, image_folder, tmp_path):
    out, records = _predict(compress_ckpt, image_folder / "sub" / "c.png", tmp_path)
    (r,) = records
    assert r["file"] == "c.png" and r["compression_ratio"] == 12.0
    assert _pixels(out / r["output"]).shape == (40, 30, 3)  # 40 x 30 is no multiple of 8: padded and cropped back
    assert math.isfinite(r["psnr"]) and r["psnr"] > 0
