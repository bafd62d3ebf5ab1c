"""torchvision's downloadable classification datasets, for users with a network. Never downloads unless asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visiontrain.data.formats.labelled_images import LabelledImages
from visiontrain.errors import DataError

# name → (class, keyword and value for the training split, same for the test split)
_DATASETS = {
    "CIFAR10": ("train", True, False),
    "CIFAR100": ("train", True, False),
    "MNIST": ("train", True, False),
    "FashionMNIST": ("train", True, False),
    "OxfordIIITPet": ("split", "trainval", "test"),
    "Flowers102": ("split", "train", "test"),
}


class TorchvisionReader:
    def __init__(self, name: str, root: str, download: bool = False) -> None:
        if name not in _DATASETS:
            raise DataError(f"data.source.name: '{name}' is not supported; choose one of {', '.join(_DATASETS)}")
        self.name, self.root, self.download = name, Path(root).expanduser(), download

    def _open(self, train: bool):
        import torchvision.datasets as tvd

        key, train_value, test_value = _DATASETS[self.name]
        try:
            return getattr(tvd, self.name)(str(self.root), **{key: train_value if train else test_value},
                                           download=self.download)
        except RuntimeError as exc:
            raise DataError(f"{self.root}: {self.name} not found there ({str(exc).splitlines()[0]}); "
                            "set data.source.download=true on a machine with a network") from None

    def prepare(self) -> None:
        self._open(True)
        self._open(False)

    def load_index(self) -> LabelledImages:
        train, test = self._open(True), self._open(False)
        datasets = [train, test]
        labels = np.asarray([_target(d, i) for d in datasets for i in range(len(d))], dtype=np.int64)
        n_train = len(train)

        def load(i: int) -> np.ndarray:
            ds, j = (train, i) if i < n_train else (test, i - n_train)
            return np.asarray(ds[j][0].convert("RGB"))

        names = list(getattr(train, "classes", [])) or [str(c) for c in range(int(labels.max()) + 1)]
        splits = {"train": np.arange(n_train), "test": np.arange(n_train, len(labels))}
        return LabelledImages(names, labels, [None] * len(labels), splits, loader=load)


def _target(ds, i: int) -> int:
    for attr in ("targets", "_labels", "labels"):
        values = getattr(ds, attr, None)
        if values is not None:
            return int(values[i])
    return int(ds[i][1])
