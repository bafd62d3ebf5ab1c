"""The training loss through ``VisionModule.log_train_loss``: the same names, steps and values as Lightning's per-step
``self.log(on_step=True, on_epoch=True, prog_bar=True)`` gives, with ``self.log`` run only on the steps that show it."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import Logger

from visiontrain.families import train_loss_log
from visiontrain.families.base_module import VisionModule


class MemoryLogger(Logger):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, dict[str, float]]] = []

    name, version = "memory", 0

    def log_metrics(self, metrics, step=None) -> None:
        self.rows.append((step, {k: float(v) for k, v in metrics.items()}))

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass

    def series(self, key: str) -> list[tuple[int, float]]:
        return [(step, m[key]) for step, m in self.rows if key in m]


class Regressor(VisionModule):
    """A linear model whose loss has two terms; ``lightning=True`` logs them as the families did before."""

    def __init__(self, lightning: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net, self.lightning, self.class_names = torch.nn.Linear(4, 1), lightning, ["y"]
        self.log_calls = 0

    def log(self, *args, **kwargs) -> None:
        self.log_calls += 1
        super().log(*args, **kwargs)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        out = self.net(x)
        terms = {"train/loss_mse": torch.nn.functional.mse_loss(out, y), "train/loss_l1": (out - y).abs().mean()}
        loss = terms["train/loss_mse"] + terms["train/loss_l1"]
        if self.lightning:
            self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(x))
            self.log_dict({k: v.detach() for k, v in terms.items()}, on_step=False, on_epoch=True, batch_size=len(x))
        else:
            self.log_train_loss(loss, len(x), terms)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _fit(module: Regressor, tmp_path, **trainer_args) -> tuple[MemoryLogger, pl.Trainer]:
    torch.manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.randn(45, 4), torch.randn(45, 1))
    logger = MemoryLogger()
    trainer = pl.Trainer(**{"max_epochs": 2, "log_every_n_steps": 3, "logger": logger, "enable_checkpointing": False,
                            "enable_progress_bar": False, "enable_model_summary": False,
                            "default_root_dir": tmp_path, **trainer_args})
    # batches of 8 and a last one of 5: the epoch mean is weighted by batch size
    trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=8))
    return logger, trainer


@pytest.fixture
def show_only_when_due(monkeypatch):
    """No time-based showing: which steps log is then exact."""
    monkeypatch.setattr(train_loss_log, "SHOW_EVERY_S", float("inf"))


def test_same_metrics_as_lightnings_per_step_logging(tmp_path, show_only_when_due):
    ours_log, ours = _fit(Regressor(), tmp_path / "ours")
    ref_log, ref = _fit(Regressor(lightning=True), tmp_path / "ref")
    for key in ("train/loss_step", "train/loss_epoch", "train/loss_mse", "train/loss_l1"):
        got, want = ours_log.series(key), ref_log.series(key)
        assert [s for s, _ in got] == [s for s, _ in want] and got, key
        assert [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-6), key
    for key in ("train/loss", "train/loss_epoch", "train/loss_step", "train/loss_mse"):
        assert float(ours.callback_metrics[key]) == pytest.approx(float(ref.callback_metrics[key]), rel=1e-6), key
    assert set(ours.progress_bar_metrics) == set(ref.progress_bar_metrics) == {"train/loss_step", "train/loss_epoch"}


def test_self_log_runs_only_on_the_steps_that_show_the_loss(tmp_path, show_only_when_due):
    module = Regressor()
    _fit(module, tmp_path)
    # 2 epochs of 6 steps, logger every 3rd step: step 1 (nothing shown yet), 3, 6 (the last batch too), 9 and 12
    # → 5 step values (of 12 steps), and per epoch train/loss_epoch, train/loss and the two terms once
    assert module.log_calls == 5 + 2 * 4


def test_progress_bar_loss_is_shown_at_most_every_interval(tmp_path, monkeypatch):
    monkeypatch.setattr(train_loss_log, "SHOW_EVERY_S", 0.0)
    module = Regressor()
    _fit(module, tmp_path, log_every_n_steps=50)
    assert module.log_calls == 12 + 2 * 4  # every step shown


def test_an_epoch_stopped_before_its_last_batch_still_logs_its_means(tmp_path, show_only_when_due):
    logger, trainer = _fit(Regressor(), tmp_path, max_steps=4)  # epoch 0 has 6 batches
    assert [s for s, _ in logger.series("train/loss_epoch")] == [3]
    assert "train/loss" in trainer.callback_metrics and "train/loss_mse" in trainer.callback_metrics


class EpochEndSeen(pl.Callback):
    """What a callback's on_train_epoch_end (a results row, a checkpoint monitoring train/loss) finds."""

    def __init__(self) -> None:
        self.seen: list[set[str]] = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seen.append(set(trainer.callback_metrics))


class StopAtStep(pl.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        trainer.should_stop = trainer.should_stop or trainer.global_step == self.step


@pytest.mark.parametrize("stop", [
    {"max_steps": 4},  # within the first epoch (6 batches)
    {"max_steps": 8},  # within the second
    {"stop_at": 4},  # a callback stops the run
    {"stop_at": 2, "min_epochs": 2},  # ... but min_epochs makes it go on: the epoch means are logged in parts
])
def test_runs_that_stop_within_an_epoch_log_what_lightning_logs(tmp_path, show_only_when_due, stop):
    trainer_args = {k: v for k, v in stop.items() if k != "stop_at"}
    results = {}
    for name, module in (("ours", Regressor()), ("ref", Regressor(lightning=True))):
        watcher = EpochEndSeen()
        callbacks = [StopAtStep(stop["stop_at"]), watcher] if "stop_at" in stop else [watcher]
        logger, trainer = _fit(module, tmp_path / name, callbacks=callbacks, **trainer_args)
        results[name] = {"series": {k: logger.series(k) for k in ("train/loss_epoch", "train/loss_mse")},
                         "seen at epoch end": watcher.seen,
                         "final": {k: pytest.approx(float(v), rel=1e-6) for k, v in trainer.callback_metrics.items()}}
    assert results["ours"] == results["ref"]
    assert results["ours"]["seen at epoch end"][-1] >= {"train/loss", "train/loss_epoch", "train/loss_mse"}
