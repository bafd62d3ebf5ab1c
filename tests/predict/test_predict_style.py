"""vt-predict on a style-transfer checkpoint writes the image it holds, finished as the run's final image."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import run_cli


def test_style_checkpoint_gives_its_final_image(style_run, tmp_path):
    out = tmp_path / "pred"
    result = run_cli("predict", [f"ckpt_path={style_run / 'checkpoints' / 'last.ckpt'}", f"out_dir={out}",
                                 f"paths.log_dir={tmp_path}/outputs"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (record,) = json.loads((out / "predictions.json").read_text())
    assert record["name"] == "astronaut__painting" and record["scale"] == 1.0
    written = np.asarray(Image.open(out / record["file"]))
    assert written.shape == (32, 32, 3)  # luminance-only optimisation, the content's colours put back
    # the same picture the run wrote when it ended (last.ckpt is saved after the last step)
    np.testing.assert_array_equal(written, np.asarray(Image.open(style_run / "final_astronaut__painting.png")))


def test_style_checkpoint_refuses_input_images(style_run, image_folder, tmp_path):
    result = run_cli("predict", [f"ckpt_path={style_run / 'checkpoints' / 'last.ckpt'}", f"input={image_folder}",
                                 f"out_dir={tmp_path}/p", f"paths.log_dir={tmp_path}/outputs"], cwd=tmp_path)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    expected = ("error: input: a StyleTransfer checkpoint holds its result and makes nothing from new images; "
                "leave input out (see docs/predict_export.md)")
    assert errors == [expected], result.stderr[-2000:]
