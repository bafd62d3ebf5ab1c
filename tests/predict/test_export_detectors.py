"""vt-export for torchvision detectors: TorchScript and ONNX of the whole detector, checked against PyTorch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import compose_cfg
from visiontrain.export import export
from visiontrain.models.detection.export import export_detector
from visiontrain.models.detection.export_check import compare
from visiontrain.run.job import run_job

CLASSES = ["circle", "square", "triangle"]


def tiny_detector(architecture: str, noise: float = 0.05, **kwargs):
    """Random weights, perturbed (``noise``): a fresh detector's heads give (nearly) the same score everywhere, and
    ties say little about an export (see export_check.compare); spread scores make detections comparable."""
    from visiontrain.models.detection.module import Detector

    torch.manual_seed(0)
    sizes = {} if architecture.startswith("ssdlite") else {"min_size": 128, "max_size": 128}
    module = Detector(architecture=architecture, class_names=CLASSES, detector_kwargs=kwargs, **sizes).eval()
    with torch.no_grad():
        for p in module.model.parameters():
            p.add_(torch.randn_like(p) * noise)
    return module


@pytest.fixture(scope="module")
def frcnn_ckpt(tmp_path_factory) -> Path:
    """A freshly built Faster R-CNN saved the way vt-train saves it (state, hyperparameters, run config)."""
    import pytorch_lightning as pl

    from visiontrain.weights.checkpoints import CONFIG_KEY

    module = tiny_detector("fasterrcnn_mobilenet_v3_large_320_fpn")
    path = tmp_path_factory.mktemp("det") / "frcnn.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": pl.__version__,
                CONFIG_KEY: {"model": {"_target_": "visiontrain.models.detection.module.Detector"}, "data": {}}}, path)
    return path


def _check(result: dict) -> None:
    assert result["detections"] > 0 and result["unmatched"] == 0
    # most detections compared one to one (the rest tie in score: their order is the runtime's choice)
    assert result["unmatched_tied"] <= result["detections"] / 2
    assert result["max_box_diff"] < 1e-2 and result["max_score_diff"] < 1e-4


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_faster_rcnn_cli_export_runs_on_new_images(frcnn_ckpt, fmt, tmp_path):
    out = tmp_path / f"model.{fmt}"
    cfg = compose_cfg([f"ckpt_path={frcnn_ckpt}", f"format={fmt}", f"output={out}"], tmp_path, config_name="export")
    run_job(cfg, export)  # raises unless the command's own check passes
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())["metrics"]
    assert metrics["export/unmatched"] == 0 and metrics["export/detections"] > 0

    # independently: images of sizes the command never used, the exported file against the checkpoint's PyTorch model
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    module = load_module(frcnn_ckpt, read_stored_config(frcnn_ckpt)).eval()
    g = torch.Generator().manual_seed(5)
    # resize scales 2 and 0.5: exact in float32 too (see export_check.sample_images for why that matters)
    images = [torch.rand(3, 32, 64, generator=g), torch.rand(3, 256, 256, generator=g)]
    with torch.no_grad():  # ONNX takes one image per call; a batch pads images to one size, changing detections
        want = module(images) if fmt == "torchscript" else [module([x])[0] for x in images]
    if fmt == "torchscript":
        scripted = torch.jit.load(str(out))
        with torch.no_grad():
            got = scripted(images)
        extra = {"class_names.json": ""}
        torch.jit.load(str(out), _extra_files=extra)
        assert json.loads(extra["class_names.json"]) == CLASSES
    else:
        import onnx
        import onnxruntime as ort

        props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
        assert json.loads(props["class_names"]) == CLASSES
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = [dict(zip(("boxes", "scores", "labels"), map(torch.from_numpy, session.run(None, {"images": x.numpy()}))))
               for x in images]
    assert all(bool(((d["labels"] >= 0) & (d["labels"] < len(CLASSES))).all()) for d in got)  # 0..K-1, no background
    _check(compare(got, want, atol=1e-4, rtol=1e-3))


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_ssdlite_export(fmt, tmp_path):
    _check(export_detector(tiny_detector("ssdlite320_mobilenet_v3_large"), fmt, tmp_path / f"m.{fmt}"))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("architecture, kwargs", [
    ("retinanet_resnet50_fpn_v2", {"score_thresh": 0.0, "detections_per_img": 50}),
    ("fcos_resnet50_fpn", {"score_thresh": 0.0, "detections_per_img": 50}),
    # perturbing all of the ResNet-50 R-CNNs leaves no detection; as built, their scores already differ
    ("maskrcnn_resnet50_fpn", {"noise": 0.0, "box_detections_per_img": 20}),
    ("maskrcnn_resnet50_fpn_v2", {"noise": 0.0, "box_detections_per_img": 20}),
    ("fasterrcnn_resnet50_fpn", {"noise": 0.0, "box_detections_per_img": 50}),
    ("fasterrcnn_resnet50_fpn_v2", {"noise": 0.0, "box_detections_per_img": 50}),
    ("fasterrcnn_mobilenet_v3_large_fpn", {"box_detections_per_img": 50}),
])
def test_larger_detectors_export(architecture, kwargs, fmt, tmp_path):
    result = export_detector(tiny_detector(architecture, **kwargs), fmt, tmp_path / f"m.{fmt}")
    _check(result)
    if architecture.startswith("maskrcnn"):
        assert result["max_mask_diff"] < 1e-3


def test_opset_below_11_is_refused(tmp_path):
    from visiontrain.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^opset: torchvision's detectors export with opset >= 11, got 10$"):
        export_detector(tiny_detector("ssdlite320_mobilenet_v3_large"), "onnx", tmp_path / "m.onnx", opset=10)
