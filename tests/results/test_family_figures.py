"""The family figures of a tiny YOLO and U-Net run (logger=wandb, offline): confusion matrix, labelled mosaics and
panels in the run dir, and the W&B tables (per-class metrics, sample predictions with boxes/masks) as W&B wrote
them offline."""

import json
import os
from pathlib import Path

import pytest

from helpers import FAST, compose_cfg

YOLO = ("experiment=det_shapes_yolo", "data.source.num_train=4", "data.source.num_val=4", "data.source.num_test=2",
        "data.source.image_size=96", "data.source.min_size=0.25", "data.img_size=64", "data.batch_size=4",
        "data.close_mosaic=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1", "model.log_images=2", "model.scale=n", "model.confusion_score_threshold=0.0")
SEG = ("experiment=seg_shapes_unet", "data.source.count=16", "data.batch_size=4", "trainer.limit_train_batches=1",
       "trainer.limit_val_batches=1", "trainer.limit_test_batches=1", "model.log_images=2")


def _train(tmp_path_factory, name, overrides):
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    tmp = tmp_path_factory.mktemp(name)
    cfg = compose_cfg([*FAST, *overrides, "logger=wandb"], tmp, tmp / "data")
    run_job(cfg, train)
    run = tmp / "run"
    assert json.loads((run / "metrics.json").read_text())["status"] == "finished"
    return run


def _staged_files(run) -> list[Path]:
    """The local files of the run's ``run_table`` artifacts: what ``wandb sync`` uploads later."""
    from wandb_records import records

    (path,) = (run / "wandb").glob("offline-run-*/run-*.wandb")
    return [Path(entry.local_path) for record in records(path)
            if record.WhichOneof("record_type") == "artifact" and record.artifact.type == "run_table"
            for entry in record.artifact.manifest.contents]


def _tables(run) -> dict[str, dict]:
    """Logged key → the table W&B wrote offline. The run's own media copy holds only placeholders for images; the
    whole table (images with their boxes/masks) is the ``run_table`` artifact staged for ``wandb sync``."""
    from wandb_records import records

    (path,) = (run / "wandb").glob("offline-run-*/run-*.wandb")
    tables = {}
    for record in records(path):
        if record.WhichOneof("record_type") == "artifact" and record.artifact.type == "run_table":
            for entry in record.artifact.manifest.contents:
                if entry.path.endswith(".table.json"):
                    tables[entry.path[: -len(".table.json")]] = json.loads(Path(entry.local_path).read_text())
    return tables


@pytest.fixture(scope="module")
def yolo_run(tmp_path_factory):
    return _train(tmp_path_factory, "yolo_fig", YOLO)


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory):
    return _train(tmp_path_factory, "seg_fig", SEG)


@pytest.mark.slow  # a YOLO run with W&B: about 25 s on 2 cores (the fast checks: test_detection_confusion.py)
def test_detection_run_dir_has_confusion_matrix_and_labelled_mosaics(yolo_run):
    for name in ("confusion_matrix", "confusion_matrix_normalized", "val_batch_labels", "val_batch_pred",
                 "test_confusion_matrix", "BoxPR_curve"):
        assert (yolo_run / f"{name}.png").stat().st_size > 5_000, name


@pytest.mark.slow
def test_detection_tables_reach_wandb(yolo_run):
    tables = _tables(yolo_run)
    per_class = tables["val/per_class"]
    assert per_class["columns"] == ["class", "AP50", "AP", "precision", "recall", "true boxes"]
    assert {"circle", "square", "triangle"} <= {row[0] for row in per_class["data"]}
    assert sum(row[5] for row in per_class["data"]) > 0  # the validation images' true boxes are counted
    samples = tables["val/samples"]
    assert samples["columns"][:2] == ["sample", "image"] and len(samples["data"]) == 2
    image = samples["data"][0][1]
    assert image["_type"] == "image-file" and set(image["boxes"]) == {"predictions", "ground_truth"}
    assert "test/per_class" in tables


def test_segmentation_panels_and_tables(seg_run):
    assert (seg_run / "val_masks.png").stat().st_size > 5_000 and (seg_run / "test_masks.png").is_file()
    tables = _tables(seg_run)
    per_class = tables["val/per_class"]
    assert per_class["columns"] == ["class", "IoU", "precision", "recall", "true pixels"]
    assert per_class["data"][0][0] == "background" and sum(r[4] for r in per_class["data"]) > 0
    image = tables["val/samples"]["data"][0][1]
    assert set(image["masks"]) == {"prediction", "ground_truth"}


def test_wandb_stages_its_table_files_inside_the_run_dir(seg_run):
    """W&B's default staging folder is in the home folder (``~/.local/share/wandb/artifacts/staging``), where
    offline runs' files piled up; each run stages under its own ``wandb/data``."""
    staged = _staged_files(seg_run)
    assert len(staged) >= 4 and all(p.is_file() for p in staged)  # per-class and sample tables, val and test
    inside = (seg_run / "wandb" / "data" / "artifacts" / "staging").resolve()
    assert all(p.resolve().parent == inside for p in staged), staged


def test_a_users_wandb_data_dir_is_kept_and_ours_is_undone_per_job(tmp_path, monkeypatch):
    from visiontrain.run.wandb_setup import DATA_DIR_VAR, keep_wandb_files_in, release_wandb_files

    monkeypatch.delenv(DATA_DIR_VAR, raising=False)
    assert keep_wandb_files_in(tmp_path / "a") == (tmp_path / "a" / "wandb" / "data").resolve()
    assert keep_wandb_files_in(tmp_path / "b") == (tmp_path / "b" / "wandb" / "data").resolve()  # a multirun's next job
    assert os.environ[DATA_DIR_VAR] == str((tmp_path / "b" / "wandb" / "data").resolve())
    release_wandb_files()
    assert DATA_DIR_VAR not in os.environ
    monkeypatch.setenv(DATA_DIR_VAR, str(tmp_path / "mine"))
    assert keep_wandb_files_in(tmp_path / "c") is None
    release_wandb_files()
    assert os.environ[DATA_DIR_VAR] == str(tmp_path / "mine")


def test_every_entry_point_stages_in_its_run_dir(tmp_path, monkeypatch):
    """choose_wandb_mode (run_job calls it for train, eval, predict jobs that log to W&B) points W&B at the run."""
    from visiontrain.run.wandb_setup import DATA_DIR_VAR, choose_wandb_mode, release_wandb_files

    monkeypatch.delenv(DATA_DIR_VAR, raising=False)
    compose_cfg(["logger=wandb"], tmp_path, config_name="eval")
    try:
        choose_wandb_mode()
        assert os.environ[DATA_DIR_VAR] == str((tmp_path / "run" / "wandb" / "data").resolve())
    finally:
        release_wandb_files()
