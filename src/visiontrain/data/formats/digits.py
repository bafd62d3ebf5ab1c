"""scikit-learn's bundled handwritten digits (1797 real 8x8 images, 10 classes): offline, no download."""

from __future__ import annotations

import numpy as np

from visiontrain.data.formats.labelled_images import LabelledImages


class DigitsReader:
    def prepare(self) -> None:
        """Bundled with scikit-learn: nothing to fetch."""

    def load_index(self) -> LabelledImages:
        from sklearn.datasets import load_digits

        digits = load_digits()
        gray = np.clip(digits.images * (255.0 / 16.0), 0, 255).astype(np.uint8)  # pixel values are 0..16
        rgb = np.repeat(gray[..., None], 3, axis=-1)  # three channels, so RGB backbones transfer as they are
        return LabelledImages([str(c) for c in digits.target_names], digits.target.astype(np.int64), list(rgb))
