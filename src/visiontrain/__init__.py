"""visiontrain: configurable experiment training for computer vision."""

import os

# Albumentations asks PyPI for a newer version on import unless told not to; training must not touch the network.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"

from visiontrain import _moved  # noqa: E402  (old import paths of moved modules keep working)

_moved.install()
