"""ImageFolder: one sub-folder per class (``root/<class>/*.png``), optionally under ``train/``, ``val/``, ``test/``."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from visiontrain.data.formats.class_names import near_duplicates
from visiontrain.data.formats.labelled_images import LabelledImages
from visiontrain.data.formats.notes import say
from visiontrain.errors import DataError
from visiontrain.imaging import is_image_file

log = logging.getLogger(__name__)
SPLIT_NAMES = ("train", "val", "test")
IGNORED_FOLDERS = ("__MACOSX",)


class ImageFolderReader:
    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser()
        self.notes: list[str] = []

    def prepare(self) -> None:
        """Nothing to fetch: the user's folder is read as it is."""

    def load_index(self) -> LabelledImages:
        if not self.root.is_dir():
            raise DataError(f"{self.root}: image folder root does not exist (set data.source.root)")
        self.notes = []
        check_split_names(self.root)
        split_dirs = [self.root / s for s in SPLIT_NAMES if (self.root / s).is_dir()]
        if split_dirs and (self.root / "train") in split_dirs:
            class_names = self._class_names(self.root / "train")
            paths, labels, splits = [], [], {}
            for split_dir in split_dirs:
                start = len(paths)
                p, y = self._scan(split_dir, class_names, split_dir.name == "train")
                paths += p
                labels += y
                splits[split_dir.name] = np.arange(start, len(paths))
        else:
            class_names = self._class_names(self.root)
            paths, labels = self._scan(self.root, class_names, True)
            splits = {}
        train = splits.get("train", np.arange(len(labels)))
        per_class = np.bincount(np.asarray(labels, dtype=np.int64)[train], minlength=len(class_names))
        notes = say(self.notes + near_duplicates(dict(zip(class_names, per_class.tolist())), "class folder"))
        return LabelledImages(class_names, np.asarray(labels, dtype=np.int64), paths, splits, notes=notes)

    def _class_names(self, folder: Path) -> list[str]:
        names = sorted(d.name for d in folder.iterdir() if d.is_dir() and not _ignored(d.name))
        if not names:
            raise DataError(f"{folder}: no class sub-folders (expected {folder}/<class name>/<image files>)")
        return names

    def _scan(self, folder: Path, class_names: list[str], training: bool) -> tuple[list[Path], list[int]]:
        paths: list[Path] = []
        labels: list[int] = []
        for label, name in enumerate(class_names):
            class_dir = folder / name
            if not class_dir.is_dir():
                log.warning(f"{class_dir}: class folder missing in this split")
                continue
            files = sorted(p for p in class_dir.rglob("*") if p.is_file() and is_image_file(p))
            if not files and training:  # a class the model would have an output for but never see
                raise DataError(f"{class_dir}: class folder has no image files (remove it, or copy its images)")
            if not files:
                self.notes.append(f"{class_dir}: class folder has no image files")
            paths += files
            labels += [label] * len(files)
        extra = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name not in class_names
                       and not _ignored(d.name))
        if extra:
            raise DataError(f"{folder}: class folders {extra} are not in the training classes {class_names}")
        if not paths:
            raise DataError(f"{folder}: no image files found")
        return paths, labels


def _ignored(name: str) -> bool:
    """Hidden folders and what archivers leave behind (macOS zips carry a __MACOSX copy of every folder)."""
    return name.startswith(".") or name in IGNORED_FOLDERS


def check_split_names(root: Path) -> None:
    """``Train/`` or ``VAL/`` beside (or instead of) ``train/``: split folders are found by their lowercase names,
    so a differently spelt one would be read as a class, or silently not read at all."""
    for d in sorted(root.iterdir()):
        if d.is_dir() and d.name.lower() in SPLIT_NAMES and d.name not in SPLIT_NAMES:
            raise DataError(f"{d}: split folder '{d.name}' differs from '{d.name.lower()}' only in case; split "
                            f"folders are read by their lowercase names ({', '.join(SPLIT_NAMES)}): rename it")
