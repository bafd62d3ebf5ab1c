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


def test_figures_wait_while_drawing_has_taken_more_than_its_share_of_the_training_time(clock, monkeypatch):
    import visiontrain.results.figures as figures_module

    writer = ResultsWriter(figures_every_s=30, figures_max_share=0.02)  # the training time counts from t=1000
    assert figures_due(_trainer(writer, 0))
    monkeypatch.setattr(figures_module, "_drawing_s", figures_module._drawing_s + 2.0)  # epoch 0's figures took 2 s
    decisions = []
    for epoch, now in [(1, 1040), (2, 1080), (3, 1100), (4, 1140)]:
        clock.now = now
        decisions.append(figures_due(_trainer(writer, epoch)))
    # 40 s after the start 2 s of drawing is 5% (> 2%); at 100 s it is 2%; then 30 s must pass again
    assert decisions == [False, False, True, True]
    assert figures_due(_trainer(writer, 9))  # the last epoch always draws


def test_an_epoch_whose_validation_drew_its_figures_also_draws_its_results_png(clock, monkeypatch, tmp_path):
    """The validation figures and results.png share one decision per epoch: the first drawing must not use up the
    budget so that results.png of the same epoch (written at the next epoch's start) is never drawn."""
    import visiontrain.results.figures as figures_module

    drawn = []
    monkeypatch.setattr(curves, "plot_results", lambda rows, out, title="": drawn.append(len(rows)))
    writer = ResultsWriter(dirpath=str(tmp_path), figures_every_s=30, figures_max_share=0.02)
    validation_drew = []
    for epoch in range(8):
        trainer = _trainer(writer, epoch, max_epochs=100, tmp_path=tmp_path)
        writer.on_train_epoch_start(trainer, None)
        clock.now += 50
        validation_drew.append(figures_due(trainer))
        if validation_drew[-1]:  # each validation drawing takes 2.7 s: 2% allows one per 135 s of training
            monkeypatch.setattr(figures_module, "_drawing_s", figures_module._drawing_s + 2.7)
        writer.on_train_epoch_end(trainer, None)
    assert validation_drew == [True, False, True, False, False, True, False, False]
    assert drawn == [1, 3, 6]  # with the rows of epochs 0, 2 and 5


def test_the_sanity_check_draws_nothing_and_leaves_epoch_0_its_figures(clock):
    writer = ResultsWriter(figures_every_s=30)
    sanity = _trainer(writer, 0)
    sanity.sanity_checking = True
    assert not figures_due(sanity)
    clock.now += 5
    assert figures_due(_trainer(writer, 0))


def test_every_figure_saved_counts_as_drawing_time(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from visiontrain.results.figures import drawing_seconds, save_and_log

    before = drawing_seconds()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_and_log(SimpleNamespace(loggers=[], global_step=0), "val/curve", fig, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").exists()
    assert drawing_seconds() > before
