"""Any folder of images (searched recursively, no labels): the data of image-to-image tasks."""

from __future__ import annotations

from pathlib import Path

from visiontrain.errors import DataError
from visiontrain.imaging import is_image_file, read_rgb


class ImageFiles:
    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser()

    def prepare(self) -> None:
        """Nothing to fetch: the user's folder is read as it is."""

    def load_index(self) -> list[tuple[str, object]]:
        """(name, loader) pairs; a loader returns the HxWx3 uint8 image."""
        if not self.root.is_dir():
            raise DataError(f"{self.root}: image folder does not exist (set data.source.root)")
        paths = sorted(p for p in self.root.rglob("*") if p.is_file() and is_image_file(p))
        if not paths:
            raise DataError(f"{self.root}: no image files found")
        return [(str(p), _Reader(p)) for p in paths]


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self):
        return read_rgb(self.path)
