"""Generated datasets' backgrounds at any image size: a bundled photo smaller than the size (coins is 303 px on its
short side) is cropped whole and enlarged, instead of failing in numpy at image_size=320."""

import numpy as np

from visiontrain.data.synthetic.backgrounds import random_background


def test_backgrounds_larger_than_every_bundled_image():
    rng = np.random.default_rng(0)
    for size in (96, 320, 640):
        for _ in range(12):  # photos, textures and noise, drawn at random
            image = random_background(rng, size)
            assert image.shape == (size, size, 3) and image.dtype == np.uint8
