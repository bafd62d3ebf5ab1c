"""A training DataLoader that can stop mid-epoch and continue exactly where it stopped.

Lightning stores ``state_dict()`` of a train loader that has one in every checkpoint and hands it back through
``load_state_dict()`` on resume. This loader makes three things a function of (seed, epoch, position) so that
the state is three integers:

- the order: epoch ``e`` is a permutation drawn from a generator seeded with ``seed + e`` (no draw from the global
  torch RNG, which the training step owns);
- the augmentation: each sample's Albumentations pipelines are re-seeded from (seed, epoch, index) before it is
  loaded, in whichever process loads it, so results do not depend on workers, prefetching or start method;
- the position: batches handed out in this epoch; a resumed epoch skips that many indices without loading them.
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


class EpochSampler(Sampler):
    """Yields ``(index, sample seed)``; the order of epoch ``e`` depends on ``seed + e`` only. Lightning calls
    ``set_epoch`` at every epoch start, a resumed one included."""

    def __init__(self, size: int, shuffle: bool, seed: int) -> None:
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.epoch, self.skip = 0, 0
        self.resume_at: tuple[int, int] | None = None  # (epoch, samples already used), from a checkpoint

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.skip = self.resume_at[1] if self.resume_at and self.resume_at[0] == epoch else 0
        self.resume_at = None

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.shuffle:
            order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            order = list(range(self.size))
        skip, self.skip = self.skip, 0  # only the first pass after a resume starts late
        for index in order[skip:]:
            yield index, sample_seed(self.seed, self.epoch, index)


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
    def epoch_sampler(self) -> EpochSampler:
        return self.batch_sampler.sampler  # type: ignore[union-attr,return-value]

    def __iter__(self):
        return _Counting(self)

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.epoch_sampler.seed, "epoch": self.epoch_sampler.epoch, "batches": self.handed_out}

    def load_state_dict(self, state: dict[str, int]) -> None:
        per_batch = self.batch_sampler.batch_size  # type: ignore[union-attr]
        self.epoch_sampler.seed = int(state["seed"])
        self.epoch_sampler.resume_at = (int(state["epoch"]), int(state["batches"]) * per_batch)


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
            self.loader.handed_out = self.loader.epoch_sampler.skip // self.loader.batch_sampler.batch_size
            self.inner = DataLoader.__iter__(self.loader)
        batch = next(self.inner)
        self.loader.handed_out += 1
        return batch


def make_resumable(loader: DataLoader, seed: int) -> DataLoader:
    """The same loader over the same dataset with a resumable order; loaders it cannot rebuild faithfully (custom
    samplers or batch samplers, iterable datasets) come back unchanged."""
    if isinstance(loader, ResumableLoader) or not isinstance(loader, DataLoader):
        return loader
    batches = loader.batch_sampler
    if type(batches) is not BatchSampler or type(loader.sampler) not in (RandomSampler, SequentialSampler):
        return loader
    if isinstance(loader.sampler, RandomSampler) and (loader.sampler.replacement or loader.sampler._num_samples):
        return loader
    sampler = EpochSampler(len(loader.dataset), isinstance(loader.sampler, RandomSampler), seed)  # type: ignore[arg-type]
    workers = {"prefetch_factor": loader.prefetch_factor} if loader.num_workers else {}
    return ResumableLoader(
        SeededSamples(loader.dataset), batch_sampler=BatchSampler(sampler, batches.batch_size, batches.drop_last),
        num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
        timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context, generator=torch.Generator().manual_seed(seed),
        persistent_workers=loader.persistent_workers, pin_memory_device=loader.pin_memory_device, **workers)
