"""A training DataLoader that can stop mid-epoch and continue exactly where it stopped, in one process or under DDP.

Lightning stores ``state_dict()`` of a train loader that has one in every checkpoint and hands it back through
``load_state_dict()`` on resume. This loader makes three things a function of (seed, epoch, position) so that
the state is three integers:

- the order: epoch ``e`` is a permutation drawn from a generator seeded with ``seed + e`` (no draw from the global
  torch RNG, which the training step owns). Under DDP Lightning puts its DistributedSampler in place of ours; its
  order (and each rank's shard) is a function of its seed and the epoch too;
- the augmentation: each sample's Albumentations pipelines are re-seeded from (seed, epoch, index) before it is
  loaded, in whichever process loads it, so results do not depend on workers, prefetching or start method;
- the position: batches handed out in this epoch (the same on every DDP rank); a resumed epoch skips that many
  batches without loading them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler


def sample_seed(seed: int, epoch: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


class EpochShuffle(RandomSampler):
    """A RandomSampler (so Lightning knows the loader shuffles) whose order in epoch ``e`` depends on ``seed + e``
    only. Lightning calls ``set_epoch`` at every epoch start, a resumed one included."""

    def __init__(self, data_source: Any, seed: int) -> None:
        super().__init__(data_source)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(len(self.data_source), generator=generator).tolist())


class EpochSequence(SequentialSampler):
    """The loader's own order, with the epoch that the samples' seeds need."""

    epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


class SeededBatchSampler(BatchSampler):
    """Batches of ``(index, sample seed)`` from any sampler with an ``epoch`` (ours, or the DistributedSampler that
    Lightning rebuilds this class around under DDP: it re-creates it with the same arguments but ``sampler``)."""

    def __init__(self, sampler: Sampler, batch_size: int, drop_last: bool, seed: int) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.seed = seed
        self.resume_at: tuple[int, int] | None = None  # (epoch, batches already trained), from a checkpoint
        self._skip = 0

    @property
    def epoch(self) -> int:
        return int(getattr(self.sampler, "epoch", 0))

    def start_epoch(self) -> int:
        """Called before the epoch's first batch: how many batches a resumed epoch skips (once)."""
        self._skip = self.resume_at[1] if self.resume_at and self.resume_at[0] == self.epoch else 0
        self.resume_at = None
        return self._skip

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, skip, self._skip = self.epoch, self._skip, 0
        for k, batch in enumerate(super().__iter__()):
            if k >= skip:  # skipped batches are index lists only: nothing is loaded
                yield [(i, sample_seed(self.seed, epoch, i)) for i in batch]


class SeededSamples(Dataset):
    """``dataset[(index, seed)]``: re-seeds the dataset's Albumentations pipelines and the global RNGs for this one
    sample (the global ones are put back, so a single-process loader leaves the training step's RNG alone)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        import albumentations as A

        index, seed = key
        for value in vars(self.dataset).values():
            if isinstance(value, A.BaseCompose):
                value.set_random_state(np.random.default_rng(seed), random.Random(seed))
        saved = torch.get_rng_state(), np.random.get_state(), random.getstate()
        torch.default_generator.manual_seed(seed), np.random.seed(seed % 2**32), random.seed(seed)  # CPU only
        try:
            return self.dataset[index]
        finally:
            torch.set_rng_state(saved[0]), np.random.set_state(saved[1]), random.setstate(saved[2])


class ResumableLoader(DataLoader):
    """Built by :func:`make_resumable`. Its state: the seed, the epoch and the batches handed out in it."""

    handed_out = 0

    @property
    def seeded_batches(self) -> SeededBatchSampler:
        return self.batch_sampler  # type: ignore[return-value]

    def __iter__(self):
        return _Counting(self)

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seeded_batches.seed, "epoch": self.seeded_batches.epoch, "batches": self.handed_out}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seeded_batches.seed = int(state["seed"])
        self.seeded_batches.resume_at = (int(state["epoch"]), int(state["batches"]))


class _Counting:
    """Starts the underlying iterator at the first ``next`` (after Lightning's ``set_epoch``), counts batches."""

    def __init__(self, loader: ResumableLoader) -> None:
        self.loader, self.inner = loader, None

    def __iter__(self) -> _Counting:
        return self

    def __len__(self) -> int:
        return len(self.loader)

    def __next__(self) -> Any:
        if self.inner is None:
            self.loader.handed_out = self.loader.seeded_batches.start_epoch()
            self.inner = DataLoader.__iter__(self.loader)
        batch = next(self.inner)
        self.loader.handed_out += 1
        return batch


def make_resumable(loader: DataLoader, seed: int) -> DataLoader:
    """The same loader over the same dataset with a resumable order; loaders it cannot rebuild faithfully (custom
    samplers or batch samplers, iterable datasets) come back unchanged. Call it inside the datamodule's
    ``train_dataloader`` (``resumable_for`` is, from VisionDataModule's), where Lightning records the arguments it
    needs to put its DistributedSampler in under DDP."""
    if isinstance(loader, ResumableLoader) or not isinstance(loader, DataLoader):
        return loader
    batches = loader.batch_sampler
    if type(batches) is not BatchSampler or type(loader.sampler) not in (RandomSampler, SequentialSampler):
        return loader
    if isinstance(loader.sampler, RandomSampler) and (loader.sampler.replacement or loader.sampler._num_samples):
        return loader
    dataset = SeededSamples(loader.dataset)
    order = EpochShuffle(dataset, seed) if isinstance(loader.sampler, RandomSampler) else EpochSequence(dataset)
    workers = {"prefetch_factor": loader.prefetch_factor} if loader.num_workers else {}
    return ResumableLoader(
        dataset, batch_sampler=SeededBatchSampler(order, batches.batch_size, batches.drop_last, seed=seed),
        num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
        timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context, generator=torch.Generator().manual_seed(seed),
        persistent_workers=loader.persistent_workers, pin_memory_device=loader.pin_memory_device, **workers)


def resumable_for(datamodule: Any, loader: DataLoader) -> DataLoader:
    """``loader`` (a datamodule's training loader, built inside its ``train_dataloader``) made resumable when the
    datamodule's ``exact_resume`` setting is on and the run can resume exactly: one process or DDP, not
    ``overfit_batches`` (which replaces the loader). The seed is the run's (``seed_everything``): drawing one would
    shift the random streams."""
    from pytorch_lightning.strategies import DDPStrategy

    trainer = getattr(datamodule, "trainer", None)
    if not getattr(datamodule, "exact_resume", False) or trainer is None or trainer.overfit_batches:
        return loader
    if trainer.world_size > 1 and not isinstance(trainer.strategy, DDPStrategy):
        return loader
    return make_resumable(loader, torch.initial_seed() % 2**62)
