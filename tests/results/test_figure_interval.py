"""Figures drawn while training (results.png, the families' validation figures) are redrawn at most once per
``figures_every_s``: always after the first epoch and at the end, so a short epoch does not pay for a second or two
of drawing every time; test and evaluation always draw, and only rank zero's clock is ever asked."""

from types import SimpleNamespace

import pytest

import visiontrain.results.curves as curves
import visiontrain.results.writer as writer_module
from visiontrain.results.figures import figures_due
from visiontrain.results.writer import ResultsWriter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(writer_module.time, "monotonic", c)
    return c


def _trainer(writer, epoch=0, max_epochs=10, rank_zero=True, tmp_path=None):
    return SimpleNamespace(current_epoch=epoch, max_epochs=max_epochs, is_global_zero=rank_zero, callbacks=[writer],
                           callback_metrics={}, global_step=epoch, optimizers=[], sanity_checking=False,
                           default_root_dir=str(tmp_path) if tmp_path else ".")


def test_validation_figures_first_then_at_most_once_per_interval_and_at_the_last_epoch(clock):
    writer = ResultsWriter(figures_every_s=30)
    decisions = []
    for epoch, seconds in [(0, 0), (1, 10), (2, 10), (3, 12), (4, 10), (9, 5)]:
        clock.now += seconds
        trainer = _trainer(writer, epoch)
        decisions.append(figures_due(trainer))
        assert figures_due(trainer) == decisions[-1]  # the mosaics and the epoch-end figures agree
    assert decisions == [True, False, False, True, False, True]  # 0 first, 3 after 32 s, 9 the last epoch


def test_test_stage_other_ranks_and_runs_without_the_writer_always_draw(clock):
    writer = ResultsWriter(figures_every_s=30)
    assert figures_due(_trainer(writer, 0))
    clock.now += 1
    assert not figures_due(_trainer(writer, 1))
    assert figures_due(_trainer(writer, 1), "test")
    assert figures_due(_trainer(writer, 1, rank_zero=False))
    assert figures_due(SimpleNamespace(is_global_zero=True, callbacks=[]))


def test_results_png_is_redrawn_at_most_once_per_interval_and_always_at_the_end(clock, monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(curves, "plot_results", lambda rows, out, title="": drawn.append(len(rows)))
    writer = ResultsWriter(dirpath=str(tmp_path), figures_every_s=30)
    for epoch in range(5):
        trainer = _trainer(writer, epoch, tmp_path=tmp_path)
        writer.on_train_epoch_start(trainer, None)
        clock.now += 10
        writer.on_train_epoch_end(trainer, None)
    monkeypatch.setattr(writer_module, "publish", lambda trainer, out: None)
    writer.on_train_end(trainer, None)
    assert drawn == [1, 4, 5]  # after epoch 0, 30 s later (epoch 3's row), the end
    assert (tmp_path / "results.csv").read_text().count("\n") == 6  # every epoch's row all the same
