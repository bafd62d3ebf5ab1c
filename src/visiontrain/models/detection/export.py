"""`vt-export` for the torchvision detectors (Faster R-CNN, RetinaNet, FCOS, SSDlite, Mask R-CNN).

The exported model is the whole detector: float images in [0, 1] of any size in, detections out, with the
detector's own resize/normalisation and postprocessing (score threshold, NMS) inside; labels are 0..K-1 indices
into the checkpoint's class names (stored in the file's metadata as ``class_names``).

- TorchScript (``torch.jit.script``): ``model(list of (3, H, W) tensors)`` → one dict per image (boxes xyxy in the
  image's pixels, scores, labels; ``masks`` (N, 1, H, W) probabilities for Mask R-CNN). Any number of images.
- ONNX (torchvision's ONNX path, opset >= 11): one image per call, ``images`` (3, H, W) with dynamic H and W →
  ``boxes``, ``scores``, ``labels`` (+ ``masks``). torchvision's detectors trace with a list of one image; a batch
  axis would need the transform's batching and per-image postprocessing unrolled, which it does not export.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Dict, List  # noqa: UP035  (the spelling TorchScript's signature parser is known to take)

import torch
from torch import Tensor, nn

from visiontrain.errors import ConfigError, WeightsError
from visiontrain.models.detection.export_check import compare, passed, sample_images

ONNX_OUTPUTS = ("boxes", "scores", "labels", "masks")


class ScriptableDetector(nn.Module):
    """List of images → list of detection dicts, labels 0..K-1 (the detector's 0 is the background)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: List[Tensor]) -> List[Dict[str, Tensor]]:  # noqa: UP006
        if torch.jit.is_scripting():
            detections = self.model(images)[1]  # scripted torchvision detectors return (losses, detections)
        else:
            detections = self.model(images)
        out: List[Dict[str, Tensor]] = []  # noqa: UP006
        for d in detections:
            d["labels"] = d["labels"] - 1
            out.append(d)
        return out


class OneImageDetector(nn.Module):
    """(3, H, W) → boxes, scores, labels (+ masks): the tensors-only signature ONNX needs."""

    def __init__(self, model: nn.Module, masks: bool) -> None:
        super().__init__()
        self.model, self.masks = model, masks

    def forward(self, image: Tensor):
        d = self.model([image])[0]
        out = (d["boxes"], d["scores"], d["labels"] - 1)
        return (*out, d["masks"]) if self.masks else out


def export_detector(module, fmt: str, path: str | Path, opset: int = 17, atol: float = 1e-4,
                    rtol: float = 1e-3) -> dict[str, float]:
    """Write ``path``, run it on two sample images of other sizes than any traced, compare with PyTorch (see
    ``export_check.compare``) and raise WeightsError on a mismatch. Returns the comparison's figures."""
    if module.model is None:
        raise WeightsError("ckpt_path: the checkpoint holds no detector (its class_names are missing)")
    model = module.model.eval().cpu()
    masks = bool(module.masks)
    names = list(module.class_names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = sample_images(model)
    with torch.no_grad():
        # as each runtime is fed: ONNX one image per call, TorchScript the list at once (a batch is padded to one
        # size, which changes a smaller image's detections a little)
        eager = ScriptableDetector(model)
        want = [eager([image])[0] for image in images] if fmt == "onnx" else eager(images)
        if fmt == "onnx":
            got = _onnx(model, masks, images, path, opset, names)
        elif fmt == "torchscript":
            got = _torchscript(model, images, path, names)
        else:
            raise ConfigError(f"format: {fmt!r} is not a valid choice; valid choices: 'onnx', 'torchscript'")
    result = compare(got, want, atol=atol, rtol=rtol)
    if not passed(result):
        raise WeightsError(f"{path}: {int(result['unmatched'])} of {int(result['detections'])} exported detections "
                           f"have no PyTorch detection within atol={atol}, rtol={rtol} (same label), "
                           f"{int(result['count_mismatch'])} image(s) with another number of detections")
    return result


def _torchscript(model: nn.Module, images: list[Tensor], path: Path, names: list[str]) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "RCNN always returns a (Losses, Detections) tuple in scripting"
        scripted = torch.jit.script(ScriptableDetector(model))
        torch.jit.save(scripted, str(path), _extra_files={"class_names.json": json.dumps(names)})
        loaded = torch.jit.load(str(path), map_location="cpu")
        return [{k: v for k, v in d.items()} for d in loaded(images)]


def _onnx(model: nn.Module, masks: bool, images: list[Tensor], path: Path, opset: int,
          names: list[str]) -> list[dict]:
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        raise ConfigError("format=onnx needs onnx and onnxruntime: pip install 'visiontrain[export]'") from None
    if opset < 11:
        raise ConfigError(f"opset: torchvision's detectors export with opset >= 11, got {opset}")
    outputs = list(ONNX_OUTPUTS if masks else ONNX_OUTPUTS[:3])
    axes = {"images": {1: "height", 2: "width"}, **{o: {0: "detections"} for o in outputs}}
    if masks:
        axes["masks"] = {0: "detections", 2: "height", 3: "width"}
    # traced on an image of another size than both checked ones: proves the dynamic height and width
    traced = torch.rand(3, images[0].shape[1] * 3 // 4, images[0].shape[2], generator=torch.Generator().manual_seed(1))
    wrapped = OneImageDetector(model, masks).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python values in torchvision's code
        torch.onnx.export(wrapped, (traced,), str(path), input_names=["images"], output_names=outputs,
                          dynamic_axes=axes, opset_version=opset, dynamo=False)
    proto = onnx.load(str(path))
    onnx.helper.set_model_props(proto, {"class_names": json.dumps(names)})
    onnx.save(proto, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = []
    for image in images:
        values = session.run(None, {"images": image.numpy()})
        got.append({k: torch.from_numpy(v) for k, v in zip(outputs, values)})
    return got
