"""Schemas of the config parts that name no ``_target_``: the top level of each entry point's config and ``paths``.

Checked by ``validation`` field by field like a ``_target_``'s signature (unknown key with did-you-mean, type,
Literal choices). Group nodes (``data``, ``model``, …) are ``Any`` here: their ``_target_`` signatures check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass
class Paths:
    root_dir: str
    data_dir: str
    log_dir: str
    output_dir: str


@dataclass
class _Common:
    task_name: str
    paths: Any
    hydra: Any  # Hydra checks its own node (launcher, sweeper: structured configs)
    ckpt_path: str | None
    trusted_modules: list | str | None  # packages whose classes checkpoints may name (visiontrain.families.trust)


@dataclass
class Train(_Common):
    data: Any
    model: Any
    trainer: Any
    callbacks: Any
    logger: Any
    tags: list | None
    seed: int | None
    train: bool
    test: bool
    resume: bool | str | None
    requeue_signal: str | None
    optimized_metric: str | None
    optimized_mode: Literal["min", "max"] | None  # null: the model family's (visiontrain.families)
    sweep_value: Literal["best", "last"]
    on_failure: Literal["continue", "raise"]
    failure_value: float | None


@dataclass
class Eval(_Common):
    data: Any
    trainer: Any
    callbacks: Any
    logger: Any
    tags: list | None
    seed: int | None
    optimized_metric: str | None


@dataclass
class Predict(_Common):
    input: str | None  # style checkpoints take none (vt-predict says when one is required)
    out_dir: str
    batch_size: int
    num_workers: int
    accelerator: str
    precision: str | int
    progress_bar: bool
    options: dict


@dataclass
class Export(_Common):
    format: Literal["onnx", "torchscript"]
    output: str | None
    image_size: int | None
    opset: int
    atol: float
    rtol: float


ROOTS: dict[str, type] = {"train": Train, "eval": Eval, "predict": Predict, "export": Export}
SECTIONS: dict[str, type] = {"paths": Paths}
