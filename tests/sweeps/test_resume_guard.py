"""ResumeGuard in process on a tiny model (fast): a longer horizon on resume continues on the longer run's LR curve;
a layer of another shape is refused naming the config key."""

import math

import pytest
import pytorch_lightning as pl
import torch

from visiontrain.callbacks.resume_guard import ResumeGuard
from visiontrain.errors import ConfigError
from visiontrain.utils.checkpoints import CONFIG_KEY


class Tiny(pl.LightningModule):
    def __init__(self, width: int = 4, epochs: int = 2, lr: float = 0.1):
        super().__init__()
        self.net = torch.nn.Linear(width, 1)
        self.epochs, self.lr, self.seen = epochs, lr, {}

    def training_step(self, batch, batch_idx):
        self.seen[self.current_epoch] = self.optimizers().param_groups[0]["lr"]
        return self.net(batch[0]).pow(2).mean()

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, self.net.in_features)),
                                           batch_size=4)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.epochs)}


class StoreConfig(pl.Callback):
    def __init__(self, config):
        self.config = config

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        checkpoint[CONFIG_KEY] = self.config


def _config(epochs: int, width: int = 4) -> dict:
    return {"trainer": {"max_epochs": epochs}, "model": {"_target_": "Tiny", "width": width}}


def _fit(tmp_path, epochs: int, width: int = 4, ckpt=None) -> Tiny:
    model = Tiny(width=width, epochs=epochs)
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


def test_another_layer_shape_on_resume_is_refused_naming_the_key(tmp_path):
    _fit(tmp_path, epochs=1)
    with pytest.raises(ConfigError, match=r"^resume: cannot change model.width \(4 → 8\)"):
        _fit(tmp_path, epochs=2, width=8, ckpt=tmp_path / "end.ckpt")
