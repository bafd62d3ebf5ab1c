"""``last.ckpt`` is a second name of the best checkpoint when the epoch's best was just written (one write, not two),
and never changes the best checkpoint's content afterwards: not when a later epoch that does not improve writes
``last.ckpt``, not when an interrupted job writes it, not when a better epoch replaces the best file."""

from __future__ import annotations

import os
from pathlib import Path

import pytorch_lightning as pl
import torch

from visiontrain.callbacks.checkpoint import ModelCheckpoint


class ScriptedMetric(pl.LightningModule):
    """A linear layer whose ``val/score`` per epoch is given (mode max)."""

    def __init__(self, scores: list[float]) -> None:
        super().__init__()
        self.scores = scores
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).square().mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/score", self.scores[self.current_epoch])

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 4)), batch_size=4)

    val_dataloader = train_dataloader


def _fit(tmp_path: Path, scores: list[float], ckpt_path: str | None = None, epochs: int | None = None):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, filename="epoch_{epoch:03d}", monitor="val/score", mode="max",
                                 save_last=True, save_top_k=1, auto_insert_metric_name=False)
    trainer = pl.Trainer(max_epochs=epochs or len(scores), callbacks=[checkpoint], logger=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                         default_root_dir=tmp_path)
    trainer.fit(ScriptedMetric(scores), ckpt_path=ckpt_path)
    return trainer, checkpoint


def _epoch(path: str | Path) -> int:
    return torch.load(path, weights_only=True)["epoch"]


def _same_file(a: str | Path, b: str | Path) -> bool:
    return os.stat(a).st_ino == os.stat(b).st_ino


def test_an_improving_last_epoch_writes_one_file_under_both_names(tmp_path):
    _, checkpoint = _fit(tmp_path, [0.1, 0.2, 0.3])
    last = tmp_path / "last.ckpt"
    assert Path(checkpoint.best_model_path).name == "epoch_002.ckpt"
    assert _same_file(last, checkpoint.best_model_path)
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == ["epoch_002.ckpt", "last.ckpt"]
    stored = torch.load(last, weights_only=True)["callbacks"]
    state = next(v for k, v in stored.items() if k.startswith("ModelCheckpoint"))
    assert state["last_model_path"] == str(last)  # what Lightning's own last save records
    assert state["best_model_path"] == checkpoint.best_model_path


def test_an_epoch_that_does_not_improve_writes_last_afresh_and_leaves_the_best_as_it_was(tmp_path):
    _, checkpoint = _fit(tmp_path, [0.1, 0.5, 0.2])
    last, best = tmp_path / "last.ckpt", checkpoint.best_model_path
    assert not _same_file(last, best)
    assert (_epoch(last), _epoch(best)) == (2, 1)
    torch.load(best, weights_only=True)  # whole, not truncated by the write of last.ckpt


def test_an_interrupt_checkpoint_written_over_a_linked_last_leaves_the_best_intact(tmp_path):
    trainer, checkpoint = _fit(tmp_path, [0.1, 0.5])
    last, best = tmp_path / "last.ckpt", checkpoint.best_model_path
    assert _same_file(last, best)
    before = torch.load(best, weights_only=True)["state_dict"]["layer.weight"].clone()
    with torch.no_grad():
        trainer.lightning_module.layer.weight.add_(1.0)
    trainer.save_checkpoint(last)  # what CheckpointOnInterrupt does
    assert not _same_file(last, best)
    torch.testing.assert_close(torch.load(best, weights_only=True)["state_dict"]["layer.weight"], before)
    torch.testing.assert_close(torch.load(last, weights_only=True)["state_dict"]["layer.weight"], before + 1.0)


def test_a_resumed_run_keeps_writing_last_ckpt_and_replaces_the_best_through_the_link(tmp_path):
    _fit(tmp_path, [0.1, 0.5])
    _, checkpoint = _fit(tmp_path, [0.1, 0.5, 0.4, 0.9], ckpt_path=str(tmp_path / "last.ckpt"))
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == ["epoch_003.ckpt", "last.ckpt"]  # no last-v1.ckpt
    assert _same_file(tmp_path / "last.ckpt", checkpoint.best_model_path)
    assert _epoch(tmp_path / "last.ckpt") == 3
