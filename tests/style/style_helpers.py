"""Tiny style-transfer fits through a real Trainer (imported by the tests; fixtures live in conftest.py)."""

from __future__ import annotations


class LossRecorder:
    """Collects total/loss after every training step."""

    def __init__(self) -> None:
        import pytorch_lightning as pl

        class _Cb(pl.Callback):
            def on_train_batch_end(cb, trainer, *args):
                self.values.append(float(trainer.callback_metrics["total/loss"]))

        self.values: list[float] = []
        self.callback = _Cb()


def fit(module, pairs, steps: int, root, callbacks=()):
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader

    from visiontrain.data.style import _Steps

    module.pairs = pairs
    trainer = pl.Trainer(max_steps=steps, max_epochs=-1, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=str(root), callbacks=list(callbacks))
    trainer.fit(module, train_dataloaders=DataLoader(_Steps(steps), batch_size=1))
    return trainer
