"""Wrong combinations at the entry points, each refused as one `error:` line before any work: a checkpoint of one
family evaluated on another family's data, a resume checkpoint that weights_only refuses, a run or checkpoint
directory that cannot be written."""

import collections

import pytest
import torch
from omegaconf import OmegaConf

from helpers import run_cli
from visiontrain.errors import ConfigError, WeightsError
from visiontrain.weights.checkpoints import CONFIG_KEY

CLASSIFIER = {"model": {"_target_": "visiontrain.models.classification.module.ImageClassifier"},
              "data": {"_target_": "visiontrain.data.classification.ClassificationDataModule"}}


class NotPlainData:  # pickled by reference: weights_only refuses it
    pass


def last_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[-1] if lines else ""


# --- family of the checkpoint vs the datamodule (vt-eval) ---

def test_checkpoint_of_another_family_is_refused_before_data_is_read():
    from visiontrain.data.classification import ClassificationDataModule
    from visiontrain.data.detection import DetectionDataModule
    from visiontrain.families.registry import check_fits
    from visiontrain.models.classification.module import ImageClassifier

    with pytest.raises(ConfigError, match="data: ImageClassifier \\(model\\) trains on a ClassificationDataModule .*"
                                          "but data is a DetectionDataModule"):
        check_fits(ImageClassifier, DetectionDataModule)
    check_fits(ImageClassifier, ClassificationDataModule)  # same datamodule, other dataset: fine


@pytest.mark.slow  # a CLI run; the check itself is tested above
def test_vt_eval_refuses_a_classifier_checkpoint_on_detection_data(tmp_path):
    ckpt = tmp_path / "classifier.ckpt"
    torch.save({CONFIG_KEY: CLASSIFIER, "state_dict": {}}, ckpt)
    result = run_cli("eval", [f"ckpt_path={ckpt}", "data=shapes_det", f"paths.data_dir={tmp_path / 'nodata'}",
                              f"hydra.run.dir={tmp_path / 'run'}", "logger=none"], cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert last_line(result).startswith("error: data: ImageClassifier (model) trains on a ClassificationDataModule")
    assert last_line(result).endswith("but data is a DetectionDataModule")
    assert not (tmp_path / "nodata").exists()  # refused before the dataset was generated or read


# --- resume checkpoints weights_only refuses ---

def test_resume_checkpoint_refused_by_weights_only_is_one_line(tmp_path):
    from visiontrain.run.resume import checkpoint_to_resume

    bad = tmp_path / "run" / "checkpoints" / "last.ckpt"
    bad.parent.mkdir(parents=True)
    torch.save({"state_dict": {}, "extra": NotPlainData()}, bad)
    for cfg in ({"ckpt_path": str(bad)}, {"resume": "auto", "paths": {"output_dir": str(tmp_path / "run")}}):
        with pytest.raises(WeightsError) as err:
            checkpoint_to_resume(OmegaConf.create(cfg))
        assert str(err.value).startswith(f"{bad}: refused to load: it holds objects other than tensors")
        assert "\n" not in str(err.value)


def test_resume_checkpoint_of_plain_data_passes_the_check(tmp_path):
    from visiontrain.run.resume import checkpoint_to_resume

    good = tmp_path / "ok.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "counts": collections.OrderedDict(a=1)}, good)
    assert checkpoint_to_resume(OmegaConf.create({"ckpt_path": str(good)})) == str(good)


@pytest.mark.slow  # a CLI run that builds data and model first
def test_vt_train_with_a_refused_resume_checkpoint_gives_the_one_line_refusal(tmp_path):
    bad = tmp_path / "bad.ckpt"
    torch.save({"state_dict": {}, "extra": NotPlainData()}, bad)
    result = run_cli("train", [f"ckpt_path={bad}", f"hydra.run.dir={tmp_path / 'run'}", "logger=none",
                               f"paths.data_dir={tmp_path / 'data'}"], cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert last_line(result).startswith(f"error: {bad}: refused to load: it holds objects other than tensors")


# --- directories that cannot be written ---

def test_unwritable_run_dir_is_one_line_before_hydra_creates_it(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    result = run_cli("train", [f"hydra.run.dir={tmp_path / 'a_file' / 'run'}"], cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert last_line(result).startswith(f"error: run directory {tmp_path / 'a_file' / 'run'} cannot be created: "
                                        f"{tmp_path / 'a_file'} is a file, not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no outputs/, no data generated


def test_unwritable_checkpoint_dir_is_found_before_any_work(tmp_path):
    from visiontrain.run.writable import problem_with, unwritable

    (tmp_path / "a_file").write_text("")
    cfg = OmegaConf.create({"paths": {"output_dir": str(tmp_path / "run")},
                            "callbacks": {"model_checkpoint": {"dirpath": str(tmp_path / "a_file" / "ckpts")}}})
    assert unwritable(cfg) == (f"checkpoint directory {tmp_path / 'a_file' / 'ckpts'} cannot be created: "
                               f"{tmp_path / 'a_file'} is a file, not a folder")
    assert problem_with(tmp_path / "new" / "deeper", "run directory") is None
    assert not (tmp_path / "new").exists()  # checking creates nothing
