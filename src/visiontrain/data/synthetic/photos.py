"""Offline images for image-to-image tasks: scikit-image's bundled photographs and textures, optionally with the
generated shapes-seg images (written to disk and read back like any image folder)."""

from __future__ import annotations

from typing import Sequence

from visiontrain.data.synthetic.backgrounds import PHOTOS, TEXTURES, _bundled


class BundledPhotos:
    def __init__(self, names: Sequence[str] = (*PHOTOS, *TEXTURES), shapes_root: str | None = None,
                 shapes_count: int = 0, seed: int = 0) -> None:
        import skimage.data

        unknown = [n for n in names if not hasattr(skimage.data, n)]
        if unknown:
            from visiontrain.errors import ConfigError

            raise ConfigError(f"data.source.names: {unknown} are not scikit-image images; e.g. {', '.join(PHOTOS)}")
        self.names = list(names)
        self.shapes = None
        if shapes_root and shapes_count > 0:
            from visiontrain.data.synthetic.shapes_segmentation import ShapesSegmentation

            self.shapes = ShapesSegmentation(shapes_root, count=shapes_count, seed=seed)

    def prepare(self) -> None:
        if self.shapes is not None:
            self.shapes.prepare()

    def load_index(self) -> list[tuple[str, object]]:
        items: list[tuple[str, object]] = [(f"skimage.data.{n}", _Bundled(n)) for n in self.names]
        if self.shapes is not None:
            from visiontrain.data.formats.image_files import ImageFiles

            self.shapes.prepare()
            items += ImageFiles(str(self.shapes.root / "images")).load_index()
        return items


class _Bundled:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self):
        return _bundled(self.name)
