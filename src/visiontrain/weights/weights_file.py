"""The run's weights file, ``checkpoints/weights.pt``: the checkpoint that was tested (best, else last) reduced to
what predicting, exporting and fine-tuning read — the module's weights (a module may keep fewer of them: YOLO keeps
its EMA network only), fp16 where that is safe, the hyperparameters and run config; no optimizer, scheduler, loop
or callback state (those stay in the ``.ckpt`` files, which resume needs). It loads as any checkpoint does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from visiontrain.weights.checkpoints import CONFIG_KEY, load_checkpoint

WEIGHTS_NAME = "weights.pt"
MARKER = "visiontrain_weights"  # {"from": the checkpoint file it was made from}
# Lightning's load_from_checkpoint needs these besides state_dict; epoch/step say where the weights come from
_KEPT = ("hyper_parameters", "hparams_name", "pytorch-lightning_version", "epoch", "global_step", CONFIG_KEY)
_FP16_MAX = 65504.0


def _half_if_safe(tensor: Any) -> Any:
    """fp32 → fp16 when every value stays finite and no non-zero value underflows to zero (BN variances of dead
    channels, tiny biases stay fp32); integer buffers (BN's batch counter) as they are."""
    import torch

    if not isinstance(tensor, torch.Tensor) or tensor.dtype != torch.float32 or tensor.numel() == 0:
        return tensor
    if not torch.isfinite(tensor).all() or tensor.abs().max() >= _FP16_MAX:
        return tensor
    half = tensor.half()
    if ((half == 0) & (tensor != 0)).any():
        return tensor
    return half


def write_weights_file(ckpt_path: str | Path, module_cls: type, out_path: str | Path | None = None) -> Path:
    """Write the weights file of ``ckpt_path`` (a checkpoint of a ``module_cls`` module) next to it; returns it."""
    import torch

    ckpt_path = Path(ckpt_path)
    out = Path(out_path) if out_path is not None else ckpt_path.with_name(WEIGHTS_NAME)
    checkpoint = load_checkpoint(ckpt_path)
    state = dict(checkpoint["state_dict"])
    slim = getattr(module_cls, "slim_state_dict", None)  # optional module hook: the tensors worth keeping
    if callable(slim):
        state = slim(state)
    record = {key: checkpoint[key] for key in _KEPT if key in checkpoint}
    record["state_dict"] = {name: _half_if_safe(t) for name, t in state.items()}
    record[MARKER] = {"from": ckpt_path.name}
    tmp = out.with_name(f".{out.name}.tmp")
    torch.save(record, tmp)
    os.replace(tmp, out)  # never a half-written file where predict looks
    return out
