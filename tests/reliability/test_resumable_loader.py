"""The resumable train loader under DDP: Lightning rebuilds it around its DistributedSampler (as it does in a DDP
run; here without processes), each rank reads its own shard with per-sample seeds, and a resume skips the batches
already trained on every rank."""

from torch.utils.data import BatchSampler, DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from visiontrain.data.resumable_loader import ResumableLoader, SeededBatchSampler, make_resumable, sample_seed


class Items(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return i


def _loader(dataset=None, **options):
    from lightning_fabric.utilities.data import _replace_dunder_methods

    # what Lightning does around a datamodule's train_dataloader(): it records the loader's arguments
    with _replace_dunder_methods(DataLoader, "dataset"), _replace_dunder_methods(BatchSampler):
        return make_resumable(DataLoader(dataset or Items(), batch_size=2, shuffle=True, **options), seed=3)


def _rank_loader(loader, rank, epoch=1):
    from pytorch_lightning.utilities.data import _update_dataloader

    sampler = DistributedSampler(loader.dataset, num_replicas=2, rank=rank, shuffle=True, seed=3)
    sharded = _update_dataloader(loader, sampler)
    sampler.set_epoch(epoch)  # Lightning's set_epoch reaches the batch sampler's sampler
    return sharded


def test_each_rank_reads_its_own_shard_with_per_sample_seeds():
    loader = _loader()
    seen = []
    for rank in (0, 1):
        sharded = _rank_loader(loader, rank)
        assert isinstance(sharded, ResumableLoader) and isinstance(sharded.batch_sampler, SeededBatchSampler)
        assert sharded.batch_sampler.seed == 3
        batches = [b.tolist() for b in sharded]
        assert len(batches) == 3  # 5 of the 10 items per rank, in batches of 2
        seen.append([i for b in batches for i in b])
        seeds = [s for _, s in (pair for batch in sharded.batch_sampler for pair in batch)]
        assert seeds == [sample_seed(3, 1, i) for i in seen[-1]]
    assert sorted(seen[0] + seen[1]) == list(range(10))  # disjoint shards covering the data


def test_a_resumed_epoch_skips_the_trained_batches_on_every_rank():
    loader = _loader()
    for rank in (0, 1):
        full = [b.tolist() for b in _rank_loader(loader, rank)]
        resumed = _rank_loader(loader, rank)
        resumed.load_state_dict({"seed": 3, "epoch": 1, "batches": 2})  # rank 0's state: the same on every rank
        rest = [b.tolist() for b in resumed]
        assert rest == full[2:] and resumed.state_dict() == {"seed": 3, "epoch": 1, "batches": 3}
        again = [b.tolist() for b in resumed]  # the next pass over the same epoch starts from the beginning
        assert again == full


class RandomItems(Items):
    def __getitem__(self, i):
        import torch

        return torch.rand(()) + i  # an augmentation's draw from the global RNG the loader seeds per sample


def _epochs_through_workers(persistent: bool) -> list[list[float]]:
    loader = _loader(RandomItems(), num_workers=2, persistent_workers=persistent)
    assert loader.persistent_workers is persistent
    epochs = []
    for epoch in (0, 1, 2):
        loader.batch_sampler.sampler.set_epoch(epoch)  # what Lightning does at every epoch start
        epochs.append([round(float(x), 6) for batch in loader for x in batch])
    return epochs


def test_persistent_workers_draw_what_fresh_workers_draw_in_every_epoch():
    # workers started once (`data.persistent_workers=true`) must not carry the first epoch's order or seeds into later
    # epochs: order and per-sample seeds are made in the main process, so every epoch matches fresh workers'
    persistent, fresh = _epochs_through_workers(True), _epochs_through_workers(False)
    assert persistent == fresh
    assert persistent[0] != persistent[1] != persistent[2]  # new order and new draws each epoch
