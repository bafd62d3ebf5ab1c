"""ONNX export of the YOLO detector's pre-NMS output (B, 4 + K, A) from the EMA weights, checked by running it
once in onnxruntime against PyTorch.

    python -m visiontrain.models.yolo.export CKPT [OUT.onnx]
NMS stays outside the graph (runtimes have their own); ``postprocess.nms`` applies to the output unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from visiontrain.errors import ConfigError, VisiontrainError


class _Exported(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net.decode(self.net(images))


def export_onnx(module, path: str | Path, img_size: int | None = None, opset: int = 17, atol: float = 1e-3,
                check: bool = True) -> dict[str, float]:
    """Write ``path``; with ``check``, run it in onnxruntime on a random batch and raise if any output differs
    from PyTorch by more than ``atol``. Returns {'max_abs_diff': …}."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: pip install 'visiontrain[export]'") from None
    size = int(img_size or module.hparams.img_size or 640)
    wrapped = module.export_model().float()
    example = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(wrapped, (example,), str(path), input_names=["images"], output_names=["predictions"],
                          dynamic_axes={"images": {0: "batch"}, "predictions": {0: "batch"}}, opset_version=opset,
                          dynamo=False)
    if not check:
        return {}
    return {"max_abs_diff": compare_onnx(wrapped, path, example, atol)}


def compare_onnx(wrapped: nn.Module, path: Path, example: torch.Tensor, atol: float = 1e-3) -> float:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigError("checking the export needs onnxruntime: pip install 'visiontrain[export]'") from None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": example.numpy()})[0]
    with torch.no_grad():
        want = wrapped(example).numpy()
    diff = float(np.abs(got - want).max())
    if got.shape != want.shape or not diff <= atol:
        raise VisiontrainError(f"{path}: onnxruntime output differs from PyTorch (max abs diff {diff:.3g} > {atol})")
    return diff


def main(argv: list[str] | None = None) -> None:
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or len(args) > 2:
        sys.exit("usage: python -m visiontrain.models.yolo.export CKPT [OUT.onnx]")
    try:
        ckpt = Path(args[0])
        module = load_module(ckpt, read_stored_config(ckpt))
        out = Path(args[1]) if len(args) > 1 else ckpt.with_suffix(".onnx")
        result = export_onnx(module, out)
    except VisiontrainError as exc:
        sys.exit(f"error: {exc}")
    print(f"wrote {out} (onnxruntime vs PyTorch max abs diff {result['max_abs_diff']:.2e})")


if __name__ == "__main__":
    main()
