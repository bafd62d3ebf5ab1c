"""The loaders of a datamodule whose splits are index arrays over one sample table (classification, segmentation):
training shuffles and drops a ragged last batch, evaluation keeps every sample, prediction reads the test split."""

from __future__ import annotations

from torch.utils.data import DataLoader


class SplitLoaders:
    """Mixed in before ``LightningDataModule``. The host provides ``_index()`` (reads the source, fills
    ``self.splits``), ``_dataset(split, transform)``, ``bad`` (a BadSamples), the transforms, batch sizes and
    ``loader_kwargs``."""

    def setup(self, stage: str | None = None) -> None:
        self._index()
        self.bad.report(getattr(self, "trainer", None))

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self._dataset("train", self.train_transform), batch_size=self.batch_size, shuffle=True,
                          drop_last=len(self.splits["train"]) > self.batch_size, **self.loader_kwargs)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self._dataset("val", self.eval_transform), batch_size=self.eval_batch_size,
                          **self.loader_kwargs)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self._dataset("test", self.eval_transform), batch_size=self.eval_batch_size,
                          **self.loader_kwargs)

    def predict_dataloader(self) -> DataLoader:
        return self.test_dataloader()
