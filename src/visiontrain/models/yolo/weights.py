"""Fine-tuning YOLO from a file of this project: a checkpoint (its EMA weights, what validation used) or a plain
state_dict of the network. The class branch is replaced when the classes differ; anything else must fit."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from visiontrain.errors import WeightsError
from visiontrain.weights.checkpoints import load_checkpoint

log = logging.getLogger(__name__)
CLASS_BRANCH = "head.cls."  # its widths follow the class count (YOLOv8's min(K, 100))


def load_yolo_weights(net: nn.Module, path: str) -> list[str]:
    """Copy the file's network into ``net``; returns the class-branch tensors left new (other classes)."""
    state = load_checkpoint(Path(path).expanduser())
    state = state.get("state_dict", state) if isinstance(state.get("state_dict"), dict) else state
    for prefix in ("ema.module.", "net."):  # the EMA weights first: they are what the checkpoint was scored with
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            break
    own = net.state_dict()
    kept, replaced = {}, []
    for name, mine in own.items():
        theirs = state.get(name)
        if theirs is not None and tuple(theirs.shape) == tuple(mine.shape):
            kept[name] = theirs
        elif name.startswith(CLASS_BRANCH):
            replaced.append(name)
        elif theirs is None:
            raise WeightsError(f"{path}: no tensor for {name} {tuple(mine.shape)} (a YOLO file of another scale, or "
                               "not a YOLO file: set model.scale as it was trained)")
        else:
            raise WeightsError(f"{path}: tensor {name} {tuple(theirs.shape)} does not fit the model's "
                               f"{tuple(mine.shape)} (another model.scale or reg_max?)")
    net.load_state_dict(kept, strict=False)
    log.info(f"{path}: {len(kept)}/{len(own)} YOLO tensors loaded"
             + (f"; class branch new for these classes ({len(replaced)} tensors)" if replaced else ""))
    return replaced
