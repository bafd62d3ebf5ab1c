"""ResumeGuard in process on a tiny model (fast): a longer horizon on resume continues on the longer run's LR curve;
a layer of another shape is refused naming the config key."""

import math

import pytest
import pytorch_lightning as pl
import torch

from visiontrain.callbacks.resume_guard import ResumeGuard
from visiontrain.errors import ConfigError
from visiontrain.weights.checkpoints import CONFIG_KEY


class Tiny(pl.LightningModule):
    def __init__(self, width: int = 4, epochs: int = 2, lr: float = 0.1, warmup: int = 0):
        super().__init__()
        self.net = torch.nn.Linear(width, 1)
        self.epochs, self.lr, self.warmup, self.seen = epochs, lr, warmup, {}

    def training_step(self, batch, batch_idx):
        self.seen[self.current_epoch] = self.optimizers().param_groups[0]["lr"]
        return self.net(batch[0]).pow(2).mean()

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, self.net.in_features)),
                                           batch_size=4)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.epochs - self.warmup)
        if not self.warmup:
            return {"optimizer": opt, "lr_scheduler": cosine}
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=self.warmup)
        chained = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[self.warmup])
        return {"optimizer": opt, "lr_scheduler": chained}


class StoreConfig(pl.Callback):
    def __init__(self, config):
        self.config = config

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        checkpoint[CONFIG_KEY] = self.config


def _config(epochs: int, width: int = 4) -> dict:
    return {"trainer": {"max_epochs": epochs}, "model": {"_target_": "Tiny", "width": width}}


def _fit(tmp_path, epochs: int, width: int = 4, ckpt=None, warmup: int = 0) -> Tiny:
    model = Tiny(width=width, epochs=epochs, warmup=warmup)
    config = _config(epochs, width)
    trainer = pl.Trainer(max_epochs=epochs, default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[StoreConfig(config), ResumeGuard(config)])
    trainer.fit(model, ckpt_path=ckpt, weights_only=True)
    trainer.save_checkpoint(tmp_path / "end.ckpt")
    return model


def test_more_epochs_on_resume_continue_on_the_longer_schedule(tmp_path):
    _fit(tmp_path, epochs=2)
    resumed = _fit(tmp_path, epochs=4, ckpt=tmp_path / "end.ckpt")
    assert sorted(resumed.seen) == [2, 3]
    for epoch, lr in resumed.seen.items():  # main: 0.0 and then the cosine's second half-period
        assert lr > 0 and math.isclose(lr, 0.1 * 0.5 * (1 + math.cos(math.pi * epoch / 4)), rel_tol=1e-9)


def test_a_chained_schedule_follows_the_longer_horizon_too(tmp_path):
    """SequentialLR (warm-up, then cosine): the rebuilt chain's inner schedulers must drive the restored optimizer."""
    _fit(tmp_path, epochs=3, warmup=1)
    resumed = _fit(tmp_path, epochs=6, ckpt=tmp_path / "end.ckpt", warmup=1)
    assert sorted(resumed.seen) == [3, 4, 5]
    for epoch, lr in resumed.seen.items():  # a 6-epoch run: cosine over epochs 1..6 (T_max 5) after the warm-up
        want = 0.1 * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / 5))
        assert lr > 0 and math.isclose(lr, want, rel_tol=1e-9), (epoch, lr, want)


def test_another_layer_shape_on_resume_is_refused_naming_the_key(tmp_path):
    _fit(tmp_path, epochs=1)
    with pytest.raises(ConfigError, match=r"^resume: cannot change model.width \(4 → 8\)"):
        _fit(tmp_path, epochs=2, width=8, ckpt=tmp_path / "end.ckpt")
