"""Start-up mask checks: progress lines, and a cache keyed by the files' sizes and mtimes, so that a second run
re-checks nothing (main: every mask decoded again at every start, silently)."""

import logging
import os

import pytest

from seg_fixtures import simple_mask, write_pair
from visiontrain.data import check_cache
from visiontrain.data.formats import segmentation_samples
from visiontrain.data.formats.mask_folder import MaskFolderReader
from visiontrain.data.segmentation import SegmentationDataModule


@pytest.fixture
def counted(monkeypatch, tmp_path):
    monkeypatch.setenv("VT_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    original = segmentation_samples.check_sample

    def check(samples, i, ignore_index=255, seen=None):
        calls.append(samples.mask_names[i])
        return original(samples, i, ignore_index, seen)

    monkeypatch.setattr("visiontrain.data.segmentation.check_sample", check)
    return calls


def _setup(root):
    dm = SegmentationDataModule(MaskFolderReader(str(root), class_names=["bg", "a", "b"]), val_fraction=0.0,
                                test_fraction=0.0, on_bad_sample="skip")
    dm.setup("fit")
    return dm


def test_second_start_checks_only_changed_masks_and_keeps_their_results(tmp_path, counted, caplog):
    data = tmp_path / "data"
    for i in range(4):
        write_pair(data, f"ok{i}", simple_mask(label=2))
    write_pair(data, "bad", simple_mask(label=7))  # a class id beyond the 3 classes: skipped, every time
    with caplog.at_level(logging.INFO, logger="visiontrain.data"):
        first = _setup(data)
    assert len(counted) == 5 and len(first.skipped) == 1
    assert "checking masks: 5 samples in" in caplog.text and "(5 checked, 0 unchanged" in caplog.text

    counted.clear()
    second = _setup(data)
    assert counted == [] and second.skipped == first.skipped  # the cached "bad" result too

    write_pair(data, "ok1", simple_mask(h=16, w=16, label=1))
    stat = os.stat(data / "masks" / "ok1.png")
    os.utime(data / "masks" / "ok1.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # surely newer
    counted.clear()
    _setup(data)
    assert [os.path.basename(m) for m in counted] == ["ok1.png"]


def test_progress_lines_while_checking(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VT_CACHE_DIR", str(tmp_path / "cache"))
    files = [(str(tmp_path / f"{i}.png"),) for i in range(3)]
    with caplog.at_level(logging.INFO, logger="visiontrain.data"):
        check_cache.check_samples(files, lambda i: None, "checking things", every_s=0.0)
    assert "checking things: 1/3 (" in caplog.text and "ETA" in caplog.text
