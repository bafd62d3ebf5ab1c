"""`vt-export ckpt_path=… format=onnx|torchscript`: export a checkpoint's network, run the export once on a sample
batch of another size than the one traced (the batch axis is dynamic) and check it matches PyTorch."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

import visiontrain  # noqa: F401
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.resolvers import register_resolvers

register_resolvers()


def export(cfg: DictConfig) -> tuple[Mapping[str, Any], str | None]:
    import logging

    import torch

    from visiontrain.errors import ConfigError
    from visiontrain.families.protocols import export_kind
    from visiontrain.families.registry import family_of_module, stored_image_size
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    log = logging.getLogger("visiontrain")
    if cfg.format not in ("onnx", "torchscript"):
        raise ConfigError(f"format: {cfg.format!r} is not a valid choice; valid choices: 'onnx', 'torchscript'")
    ckpt_path = str(cfg.ckpt_path)
    stored = read_stored_config(ckpt_path)
    module = load_module(ckpt_path, stored, cfg.get("trusted_modules"))
    if export_kind(module) == "custom":  # a family with its own export and check (detectors: images in, detections out)
        out = Path(cfg.output or Path(cfg.paths.output_dir) / f"model.{'onnx' if cfg.format == 'onnx' else 'pt'}")
        result = module.export_to(cfg.format, out, opset=cfg.opset, atol=cfg.atol, rtol=cfg.rtol)
        log.info(f"Exported {type(module).__name__} to {out}; " + ", ".join(f"{k}={v:.3g}" for k, v in result.items()))
        return {f"export/{k}": float(v) for k, v in result.items()}, str(out)
    net = module.export_model().eval()
    size = cfg.image_size or stored_image_size(family_of_module(type(module)), module.hparams, stored.get("data") or {})
    if not size:
        raise ConfigError("image_size: the checkpoint's data config names no image_size; set image_size=…")
    g = torch.Generator().manual_seed(0)
    traced_input = torch.rand(2, 3, int(size), int(size), generator=g)
    check_input = torch.rand(3, 3, int(size), int(size), generator=g)  # another batch size: proves the dynamic axis
    out = Path(cfg.output or Path(cfg.paths.output_dir) / f"model.{'onnx' if cfg.format == 'onnx' else 'pt'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        expected = net(check_input).numpy()
        if cfg.format == "onnx":
            got = _onnx(net, traced_input, check_input, out, cfg.opset)
        else:
            got = _torchscript(net, traced_input, check_input, out)
    import numpy as np

    diff = float(np.abs(got - expected).max())
    ok = np.allclose(got, expected, atol=cfg.atol, rtol=cfg.rtol)
    log.info(f"Exported {type(module).__name__} to {out}; max |exported - PyTorch| = {diff:.2e} on a batch of "
             f"{len(check_input)} (tolerance atol={cfg.atol}, rtol={cfg.rtol}): {'ok' if ok else 'MISMATCH'}")
    if not ok:
        from visiontrain.errors import WeightsError

        raise WeightsError(f"{out}: the exported model differs from PyTorch by up to {diff:.2e} "
                           f"(atol={cfg.atol}, rtol={cfg.rtol})")
    return {"export/max_abs_diff": diff}, str(out)


def _onnx(net, traced_input, check_input, out: Path, opset: int):
    import torch

    try:
        import onnxruntime as ort
    except ImportError:
        from visiontrain.errors import ConfigError

        raise ConfigError("format=onnx needs onnx and onnxruntime: pip install 'visiontrain[export]'") from None
    # the TorchScript-based exporter: no onnxscript needed, and dynamic_axes names the batch axis directly
    torch.onnx.export(net, (traced_input,), str(out), input_names=["images"], output_names=["output"],
                      dynamic_axes={"images": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset,
                      dynamo=False)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": check_input.numpy()})[0]


def _torchscript(net, traced_input, check_input, out: Path):
    import torch

    scripted = torch.jit.trace(net, traced_input)
    scripted.save(str(out))
    loaded = torch.jit.load(str(out), map_location="cpu")
    return loaded(check_input).numpy()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="export")
def main(cfg: DictConfig) -> None:
    from visiontrain.run.job import run_job

    run_job(cfg, export)


if __name__ == "__main__":
    main()
