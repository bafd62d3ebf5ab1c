"""``model.compile: true``: ``torch.compile`` of a family's network(s) for training (classifier, U-Net, YOLO).

``nn.Module.compile()`` compiles in place: parameter names, checkpoints and weights files stay those of the plain
network, so a compiled run resumes, evaluates, predicts and exports as any other (those load uncompiled). Off by
default: on CPU inductor needs a C++ compiler and the first steps pay the compile time (benchmarks/README.md)."""

from __future__ import annotations

import logging
import shutil

from torch import nn

from visiontrain.errors import ConfigError

log = logging.getLogger("visiontrain")


def compile_for_training(module, stage: str, *networks: nn.Module) -> None:
    if stage != "fit" or not module.hparams.get("compile"):
        return
    if module.device.type == "cpu" and shutil.which("cc") is None and shutil.which("gcc") is None:
        raise ConfigError("model.compile: torch.compile on CPU needs a C++ compiler (cc/gcc) on PATH; install one "
                          "or set model.compile=false")
    for net in networks:
        if getattr(net, "_compiled_call_impl", None) is None:  # once, also when setup runs again
            net.compile()
    log.info(f"model.compile: {', '.join(type(n).__name__ for n in networks)} compiled (first steps include "
             "the compile time)")
