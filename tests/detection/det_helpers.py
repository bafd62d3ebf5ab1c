"""Shared bits of the detection tests: a tiny shapes-det and the overrides that shrink detection runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Tiny generated shapes-det (only for data=shapes_det / shapes_inst).
SHAPES_FAST = (
    "data.source.num_train=8",
    "data.source.num_val=4",
    "data.source.num_test=4",
    "data.source.image_size=96",
    "data.source.min_size=0.25",
)
# Small images and few proposals: about a CPU second per training batch.
DET_FAST = (
    "data.batch_size=2",
    "model.min_size=96",
    "model.max_size=96",
    "model.log_images=0",
    "model.warmup_steps=2",
    "++model.detector_kwargs.rpn_pre_nms_top_n_test=50",  # ++: experiments already set some detector_kwargs
    "++model.detector_kwargs.rpn_post_nms_top_n_test=50",
    "++model.detector_kwargs.box_detections_per_img=20",
)


def small_shapes(root: Path, image_size: int = 96, n: int = 6):
    from visiontrain.data.synthetic.shapes_detection import ShapesDetection

    source = ShapesDetection(str(root), num_train=n, num_val=3, num_test=3, image_size=image_size, min_size=0.2,
                             max_size=0.6, seed=1)
    source.prepare()
    return source


def write_png(path: Path, width: int, height: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), 127, np.uint8)).save(path)
