"""Albumentations pipelines from YAML: a list of instantiated transforms, closed by float conversion and ToTensorV2.

Pixel normalisation is not part of the pipeline: each model normalises its input with its backbone's statistics,
so a checkpoint applied to another dataset (or exported) always sees the statistics it was trained with.
"""

from __future__ import annotations

from typing import Any, Sequence


def build_pipeline(transforms: Sequence[Any] | None, **compose_kwargs: Any):
    import albumentations as A
    from albumentations.pytorch import ToTensorV2

    steps = list(transforms or [])
    for i, step in enumerate(steps):
        if not isinstance(step, A.BasicTransform) and not isinstance(step, A.BaseCompose):
            raise TypeError(f"transform #{i} is {type(step).__name__}, not an Albumentations transform")
    return A.Compose([*steps, A.ToFloat(max_value=255.0), ToTensorV2()], **compose_kwargs)
