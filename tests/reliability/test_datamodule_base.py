"""The shared datamodule: exact resume is the datamodule's setting (its train loader is resumable when it is on),
not a callback that replaces ``train_dataloader`` at run time; a datamodule without it is warned about."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from visiontrain.callbacks import ExactResume
from visiontrain.data.resumable_loader import ResumableLoader
from visiontrain.data.base import VisionDataModule
from visiontrain.errors import ConfigError


class Numbers(VisionDataModule):
    def _index(self):
        self.splits = {"train": np.arange(10), "val": np.arange(4), "test": np.arange(4)}

    def _dataset(self, split):
        self._index()
        return TensorDataset(torch.arange(len(self.splits[split])))


def _attached(dm, world_size=1, overfit=0):
    dm.trainer = SimpleNamespace(world_size=world_size, overfit_batches=overfit, strategy=None, datamodule=dm)
    return dm


@pytest.mark.parametrize(("on", "resumable"), [(True, True), (False, False)])
def test_exact_resume_is_a_datamodule_setting(on, resumable):
    dm = _attached(Numbers(None, batch_size=3, exact_resume=on))
    loader = dm.train_dataloader()
    assert isinstance(loader, ResumableLoader) is resumable
    assert len(loader) == 3  # shuffled, the ragged last batch of 10 dropped
    assert not isinstance(dm.val_dataloader(), ResumableLoader) and len(dm.val_dataloader()) == 2


def test_overfit_batches_keeps_the_plain_loader():
    dm = _attached(Numbers(None, batch_size=3, exact_resume=True), overfit=2)
    assert not isinstance(dm.train_dataloader(), ResumableLoader)


def test_the_callback_leaves_train_dataloader_alone_and_warns_for_a_datamodule_without_the_setting():
    class Foreign(pl.LightningDataModule):
        def train_dataloader(self):
            return DataLoader(TensorDataset(torch.arange(4)), batch_size=2, shuffle=True)

    for dm in (Numbers(None, exact_resume=True), Foreign()):
        trainer = SimpleNamespace(world_size=1, overfit_batches=0, strategy=None, datamodule=dm)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ExactResume().setup(trainer, None, "fit")
        said = [str(w.message) for w in caught if "has no exact_resume setting on" in str(w.message)]
        assert len(said) == (dm.__class__ is Foreign)
        assert "train_dataloader" not in vars(dm)  # not replaced on the instance


def test_split_fractions_are_checked_for_every_family():
    with pytest.raises(ConfigError, match=r"data.val_fraction \+ data.test_fraction must be in \[0, 1\); got 0.6 \+ 0.5"):
        Numbers(None, val_fraction=0.6, test_fraction=0.5)
