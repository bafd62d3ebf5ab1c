"""Bad samples met inside DataLoader worker processes, and in a real training run: the error is one line naming the
file; with data.on_bad_sample=skip the run goes on, says what it skipped when training starts and lists it in the
run dir."""

import json

import pytest
from bad_corpus import FakeTrainer, datamodule, every_batch, image_folder

from helpers import FAST, compose_cfg
from visiontrain.data.bad_samples import LIST_FILE
from visiontrain.errors import DataError, find_user_error, one_line

WORKER_KINDS = ["classification", "coco", "mask_folder", "restoration", "yolo_pipeline"]


@pytest.mark.parametrize("kind", WORKER_KINDS)
def test_error_raised_in_a_worker_names_the_file(tmp_path, kind):
    dm = datamodule(kind, tmp_path / "data", planted=("truncated.jpg",), workers=2)
    with pytest.raises(Exception) as err:
        every_batch(dm)
    assert isinstance(find_user_error(err.value), DataError)
    line = one_line(err.value)  # what vt-train prints and writes to metrics.json
    assert "truncated.jpg: unreadable image (image file is truncated" in line, line


@pytest.mark.parametrize("kind", WORKER_KINDS)
def test_skip_in_a_worker_is_logged_and_listed_in_the_run_dir(tmp_path, kind):
    dm = datamodule(kind, tmp_path / "data", "skip", planted=("truncated.jpg",), workers=2)
    dm.trainer = FakeTrainer(tmp_path / "run")
    assert every_batch(dm) > 0
    listed = (tmp_path / "run" / LIST_FILE).read_text("utf-8").splitlines()  # appended by the worker process
    assert listed and all("truncated.jpg: unreadable image" in line for line in listed), listed


def _classification_run(tmp_path, *overrides):
    root = image_folder(tmp_path / "images", {"zero.png": "cat", "truncated.jpg": "dog", "ñandú_日本.png": "cat"},
                        per_class=8)
    cfg = compose_cfg([*FAST, "data=image_folder", f"data.source.root={root}", "data.image_size=32",
                       "data.num_workers=2", "data.batch_size=4", "trainer.limit_train_batches=null",
                       "trainer.limit_val_batches=null", "trainer.limit_test_batches=null", *overrides], tmp_path)
    return cfg


def test_training_with_skip_summarises_at_start_and_lists_in_the_run_dir(tmp_path, caplog):
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    run_job(_classification_run(tmp_path, "data.on_bad_sample=skip"), train)
    run = tmp_path / "run"
    assert json.loads((run / "metrics.json").read_text())["status"] == "finished"
    listed = (run / LIST_FILE).read_text("utf-8")
    assert "zero.png: unreadable image (empty file, 0 bytes)" in listed  # found before training
    assert "truncated.jpg: unreadable image (image file is truncated" in listed  # found by a worker, loading it
    assert "ñandú_日本.png" not in listed  # valid, only unusually named
    assert "skipped 1 unusable samples (data.on_bad_sample=skip): 1 unreadable images skipped" in caplog.text


def test_training_error_in_a_worker_is_one_line_in_metrics_json(tmp_path, capsys):
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    (tmp_path / "images" / "cat").mkdir(parents=True)
    cfg = _classification_run(tmp_path)
    (tmp_path / "images" / "cat" / "zero.png").unlink()  # leave only the file whose pixels fail in a worker
    with pytest.raises(SystemExit):
        run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert "truncated.jpg: unreadable image (image file is truncated" in record["error"], record["error"]
    assert "\n" not in record["error"] and "Traceback" not in record["error"]
    assert f"error: {record['error']}" in capsys.readouterr().err
