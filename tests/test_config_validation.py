"""A wrong key, type or choice is one clear error naming the key, before any data is touched."""

import pytest
from hydra.errors import MissingConfigException

from helpers import compose_cfg, run_cli
from visiontrain.errors import ConfigError
from visiontrain.config.validation import validate_config


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("+model.dropuot=0.1", "model.dropuot: unknown key for visiontrain.models.classification.module.ImageClassifier."
                               " Did you mean 'dropout'?"),
        ("+trainer.max_epoch=3", "trainer.max_epoch: unknown key for pytorch_lightning.Trainer. Did you mean 'max_epochs'?"),
        ("trainer.max_epochs=abc", "trainer.max_epochs: expected int or null, got str 'abc'"),
        ("data.batch_size=1.5", "data.batch_size: expected int, got float 1.5"),
        ("model.transfer.mode=bogus", "model.transfer.mode: 'bogus' is not a valid choice; valid choices: 'apply',"),
        ("+model.transfer.moed=x", "model.transfer.moed: unknown key for TransferConfig. Did you mean 'mode'?"),
        ("trainer.precision=17", "trainer.precision: 17 is not a valid choice"),
        ("+data.train_transforms.0.heigth=3", "data.train_transforms[0].heigth: unknown key for albumentations.Resize"),
        # keys a family's datamodule passes on to VisionDataModule: still checked, named and typed
        ("+data.num_worker=2", "data.num_worker: unknown key for visiontrain.data.classification.ClassificationDataModule"
                               ". Did you mean 'num_workers'?"),
        ("data.val_fraction=abc", "data.val_fraction: expected float, got str 'abc'"),
    ],
)
def test_wrong_key_type_or_choice_is_one_line_naming_the_key(tmp_path, override, expected):
    cfg = compose_cfg([override], tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_unknown_group_choice_lists_the_valid_choices(tmp_path):
    with pytest.raises(MissingConfigException) as err:
        compose_cfg(["model=bogus"], tmp_path)
    assert "Could not find 'model/bogus'" in str(err.value)
    assert "classifier" in str(err.value)


def test_required_value_left_unset_is_named(tmp_path):
    cfg = compose_cfg(["data=image_folder"], tmp_path)
    with pytest.raises(ConfigError, match=r"^data\.source\.root: a value is required"):
        validate_config(cfg)


def test_cli_reports_config_error_as_one_line_without_traceback(tmp_path):
    proc = run_cli("train", ["+model.dropuot=0.1", "logger=none"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: model.dropuot: unknown key")
    assert not (tmp_path / "data").exists()  # nothing touched the data


def test_cli_reports_missing_data_directory_as_one_line(tmp_path):
    proc = run_cli("train", ["data=image_folder", f"data.source.root={tmp_path}/nope", "logger=none"], cwd=tmp_path,
                   timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"error: {tmp_path}/nope: image folder root does not exist (set data.source.root)"
