"""Generated "shapes" classification set: one shape per image, the kind is the class.

Written to disk as an ImageFolder tree on first use and read back through the same reader as users' folders;
regenerated only when its parameters change (a manifest records them).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from visiontrain.data.formats.image_folder import ImageFolderReader
from visiontrain.data.formats.labelled_images import LabelledImages
from visiontrain.data.synthetic.backgrounds import random_background
from visiontrain.data.synthetic.shapes import SHAPE_KINDS, draw, random_shape

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"


def write_once(root: Path, params: dict, write) -> None:
    """Call ``write(tmp_dir)`` and move the result to ``root`` unless ``root`` already holds these parameters.
    Writing into a temporary folder and renaming keeps concurrent processes (DDP ranks) from seeing half a dataset."""
    manifest = root / MANIFEST
    if manifest.is_file() and json.loads(manifest.read_text()) == params:
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        write(tmp)
        (tmp / MANIFEST).write_text(json.dumps(params, indent=2, sort_keys=True))
        if manifest.is_file() and json.loads(manifest.read_text()) == params:  # another process won the race
            return
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
        log.info(f"Generated dataset written to {root}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class ShapesClassification:
    def __init__(self, root: str, classes: Sequence[str] = SHAPE_KINDS[:4], per_class: int = 200,
                 image_size: int = 64, min_size: float = 0.35, max_size: float = 0.8,
                 background_contrast: float = 0.5, seed: int = 0) -> None:
        unknown = [c for c in classes if c not in SHAPE_KINDS]
        if unknown:
            from visiontrain.errors import ConfigError

            raise ConfigError(f"data.source.classes: unknown shapes {unknown}; valid choices: {', '.join(SHAPE_KINDS)}")
        self.root = Path(root).expanduser()
        self.params = {"kind": "shapes-classification", "classes": list(classes), "per_class": int(per_class),
                       "image_size": int(image_size), "min_size": float(min_size), "max_size": float(max_size),
                       "background_contrast": float(background_contrast), "seed": int(seed), "version": 1}

    def prepare(self) -> None:
        write_once(self.root, self.params, self._write)

    def _write(self, out: Path) -> None:
        p = self.params
        rng = np.random.default_rng(p["seed"])
        size = p["image_size"]
        for kind in p["classes"]:
            (out / kind).mkdir(parents=True)
            for i in range(p["per_class"]):
                background = random_background(rng, size, contrast=p["background_contrast"])
                image = Image.fromarray(background)
                draw(image, random_shape(rng, kind, size, p["min_size"], p["max_size"], background))
                image.save(out / kind / f"{i:05d}.png")

    def load_index(self) -> LabelledImages:
        self.prepare()  # cheap when present; makes a reader usable outside Lightning's prepare_data too
        return ImageFolderReader(str(self.root)).load_index()
