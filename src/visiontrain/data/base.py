"""The datamodule every family's derives from: the settings they share (source, Albumentations pipelines, bad-sample
policy, split fractions and seed, loader options, exact resume) and one set of loaders over per-split datasets.

A subclass reads its source once in ``_index()`` (filling ``self.splits``) and builds a split's dataset in
``_dataset(split)``; it overrides a loader only where its batches differ (detection's aspect-ratio groups)."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset

from visiontrain.data.resumable_loader import resumable_for
from visiontrain.data.augment import build_pipeline
from visiontrain.data.bad_samples import BadSamples, check_policy
from visiontrain.errors import ConfigError


class VisionDataModule(pl.LightningDataModule):
    """``batch_size`` is per device (each DDP process loads that many). ``exact_resume``: the training loader's order
    and per-sample seeds can resume mid-epoch (the data configs take it from ``callbacks.exact_resume.enabled``)."""

    def __init__(
        self,
        source: Any,
        train_transforms: Sequence[Any] | None = None,
        eval_transforms: Sequence[Any] | None = None,
        *,
        on_bad_sample: Literal["error", "skip", "raise"] = "error",  # see visiontrain.data.bad_samples
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        batch_size: int = 16,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        seed: int = 0,
        exact_resume: bool = False,
        pipeline_options: dict[str, Any] | None = None,  # Compose options of both pipelines (bbox_params for boxes)
    ) -> None:
        super().__init__()
        if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
            raise ConfigError(f"data.val_fraction + data.test_fraction must be in [0, 1); got {val_fraction} + "
                              f"{test_fraction}")
        self.source = source
        self.train_transform = self.make_pipeline(train_transforms, **(pipeline_options or {}))
        self.eval_transform = self.make_pipeline(eval_transforms, **(pipeline_options or {}))
        self.on_bad_sample = check_policy(on_bad_sample)
        self.bad = BadSamples(self.on_bad_sample)
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size or batch_size
        self.loader_kwargs: dict[str, Any] = {"num_workers": num_workers, "pin_memory": pin_memory,
                                              "persistent_workers": persistent_workers and num_workers > 0}
        self.exact_resume = exact_resume
        self.splits: dict[str, Any] = {}

    # --- what a family provides -------------------------------------------------------------------------------
    def make_pipeline(self, transforms: Sequence[Any] | None, **options: Any) -> Any:
        return build_pipeline(transforms, **options)

    def _index(self) -> None:
        raise NotImplementedError

    def _dataset(self, split: str) -> Dataset:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        prepare = getattr(self.source, "prepare", None)
        if callable(prepare):
            prepare()

    def setup(self, stage: str | None = None) -> None:
        self._index()
        self.bad.report(getattr(self, "trainer", None))

    def transform_for(self, split: str) -> Any:
        return self.train_transform if split == "train" else self.eval_transform

    def train_loader(self) -> DataLoader:
        """Shuffled; a ragged last batch is dropped unless it is the only one."""
        dataset = self._dataset("train")
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=True, drop_last=len(dataset) > self.batch_size,
                          **self.loader_kwargs)

    def eval_loader(self, split: str) -> DataLoader:
        return DataLoader(self._dataset(split), batch_size=self.eval_batch_size, **self.loader_kwargs)

    def train_dataloader(self) -> DataLoader:
        return resumable_for(self, self.train_loader())

    def val_dataloader(self) -> DataLoader:
        return self.eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.eval_loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self.eval_loader("test")
