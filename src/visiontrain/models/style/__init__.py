"""Neural style transfer (Gatys et al.): the image is the parameter, a frozen classifier gives the features."""

from visiontrain.models.style.module import StyleTransfer

__all__ = ["StyleTransfer"]
