"""Tiny style-transfer runs: 32 px images, random VGG features, a handful of LBFGS evaluations."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny_pairs():
    from visiontrain.data.style import StyleDataModule

    dm = StyleDataModule(content="skimage:astronaut", style="skimage:brick", image_size=32)
    dm.setup()
    return dm.pairs
