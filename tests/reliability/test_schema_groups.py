"""Every config group: an unknown key, a wrong type and an unknown choice each fail before any data is touched,
as one line that names the key. Groups whose nodes have a ``_target_`` are checked against its signature; the top
level and ``paths`` against ``config_schema``; ``hydra``, ``launcher`` and ``hparams_search`` by Hydra's own
structured configs (at composition, before the run starts); a group option that does not exist by Hydra too."""

from pathlib import Path

import pytest
from hydra.errors import HydraException, MissingConfigException

from helpers import compose_cfg
from visiontrain.errors import ConfigError
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.validation import validate_config

# (group, overrides, the message starts with)
CASES = [
    ("data", ["+data.batch_sizee=3"], "data.batch_sizee: unknown key for visiontrain.data.classification."
                                      "ClassificationDataModule. Did you mean 'batch_size'?"),
    ("data", ["data.batch_size=abc"], "data.batch_size: expected int, got str 'abc'"),
    ("data", ["data=shapes_det", "model=faster_rcnn", "data.source.format=parquet"],
     "data.source.format: 'parquet' is not a valid choice; valid choices: 'coco', 'yolo', 'voc', 'instance_masks'"),
    ("model", ["+model.droput=0.1"], "model.droput: unknown key for visiontrain.models.classification.module."
                                     "ImageClassifier. Did you mean 'dropout'?"),
    ("model", ["model.dropout=high"], "model.dropout: expected float, got str 'high'"),
    ("model", ["model.transfer.mode=melt"], "model.transfer.mode: 'melt' is not a valid choice"),
    ("trainer", ["+trainer.max_epoch=3"], "trainer.max_epoch: unknown key for pytorch_lightning.Trainer. "
                                          "Did you mean 'max_epochs'?"),
    ("trainer", ["trainer.max_epochs=abc"], "trainer.max_epochs: expected int or null, got str 'abc'"),
    ("trainer", ["trainer.precision=17"], "trainer.precision: 17 is not a valid choice"),
    ("trainer", ["trainer.accelerator=gpuu"], "trainer.accelerator: 'gpuu' is not a valid choice; valid choices: "),
    ("trainer", ["+trainer.strategy=dpp"], "trainer.strategy: 'dpp' is not a valid choice; valid choices: "),
    ("logger", ["logger=csv", "+logger.csv.nmae=x"], "logger.csv.nmae: unknown key for "
                                                     "pytorch_lightning.loggers.CSVLogger. Did you mean 'name'?"),
    ("logger", ["logger=csv", "+logger.csv.flush_logs_every_n_steps=often"],
     "logger.csv.flush_logs_every_n_steps: expected int, got str 'often'"),
    ("logger", ["logger=wandb", "logger.wandb.log_model=sometimes"],
     "logger.wandb.log_model: 'sometimes' is not a valid choice; valid choices: 'all'"),
    ("callbacks", ["+callbacks.model_checkpoint.monitr=val/acc"],
     "callbacks.model_checkpoint.monitr: unknown key for visiontrain.callbacks.checkpoint.ModelCheckpoint. "
     "Did you mean 'monitor'?"),
    ("callbacks", ["callbacks.model_checkpoint.save_top_k=all"],
     "callbacks.model_checkpoint.save_top_k: expected int, got str 'all'"),
    ("callbacks", ["callbacks.early_stopping.mode=maximum"],
     "callbacks.early_stopping.mode: 'maximum' is not a valid choice; valid choices: max, min"),
    ("callbacks", ["callbacks.lr_monitor.logging_interval=hour"],
     "callbacks.lr_monitor.logging_interval: 'hour' is not a valid choice"),
    ("callbacks", ["callbacks.exact_resume.enabled=sometimes"],
     "callbacks.exact_resume.enabled: expected bool, got str 'sometimes'"),
    ("paths", ["+paths.dat_dir=/x"], "paths.dat_dir: unknown key for paths. Did you mean 'data_dir'?"),
    ("paths", ["paths.log_dir=3"], "paths.log_dir: expected str, got int 3"),
    ("top level", ["+optimised_metric=val/acc"], "optimised_metric: unknown key for the train config. "
                                                 "Did you mean 'optimized_metric'?"),
    ("top level", ["seed=abc"], "seed: expected int or null, got str 'abc'"),
    ("top level", ["optimized_mode=maximum"], "optimized_mode: 'maximum' is not a valid choice; valid choices: "
                                              "'min', 'max'"),
    ("top level", ["on_failure=ignore"], "on_failure: 'ignore' is not a valid choice"),
    ("debug", ["debug=limit", "trainer.limit_train_batches=some"],
     "trainer.limit_train_batches: expected int or float or null, got str 'some'"),
]


@pytest.mark.parametrize(("group", "overrides", "expected"), CASES, ids=[f"{c[0]}:{c[1][-1]}" for c in CASES])
def test_wrong_key_type_or_choice_fails_before_data_naming_the_key(tmp_path, group, overrides, expected):
    cfg = compose_cfg(overrides, tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert not (tmp_path / "data").exists()  # nothing was read or generated


# launcher and hparams_search configure Hydra's plugins: a wrong type fails at composition (their structured
# configs), an unknown key or direction in validate_config (against the same dataclasses).
HYDRA_CASES = [
    ("launcher", ["launcher=submitit_slurm", "hydra.launcher.timeout_min=soon"], "hydra.launcher.timeout_min"),
    ("hparams_search", ["hparams_search=classifier_optuna", "hydra.sweeper.n_trials=many"],
     "hydra.sweeper.n_trials"),
    ("hydra", ["hydra.job.chdir=maybe"], "hydra.job.chdir"),
]


@pytest.mark.parametrize(("group", "overrides", "key"), HYDRA_CASES, ids=[c[1][-1] for c in HYDRA_CASES])
def test_hydra_structured_groups_reject_wrong_types_at_composition(tmp_path, group, overrides, key):
    with pytest.raises(HydraException) as err:
        compose_cfg(overrides, tmp_path)
    assert key in str(err.value)
    assert not (tmp_path / "data").exists()


PLUGIN_CASES = [
    ("launcher", ["launcher=submitit_slurm", "+hydra.launcher.partitionn=gpu"],
     "hydra.launcher.partitionn: unknown key for SlurmQueueConf. Did you mean 'partition'?"),
    ("hparams_search", ["hparams_search=classifier_optuna", "+hydra.sweeper.n_trialz=3"],
     "hydra.sweeper.n_trialz: unknown key for OptunaSweeperConf. Did you mean 'n_trials'?"),
    ("hparams_search", ["hparams_search=classifier_optuna", "+hydra.sweeper.prunner=null"],
     "hydra.sweeper.prunner: unknown key for OptunaSweeperConf. Did you mean 'pruner'?"),
    ("pruner", ["hparams_search=classifier_optuna", "pruner=hyperband", "+hydra.sweeper.pruner.reduction=2"],
     "hydra.sweeper.pruner.reduction: unknown key for optuna.pruners.HyperbandPruner. Did you mean "
     "'reduction_factor'?"),
    ("hparams_search", ["hparams_search=classifier_optuna", "hydra.sweeper.direction=sideways"],
     "hydra.sweeper.direction: 'sideways' is not a valid choice; valid choices: minimize, maximize"),
]


@pytest.mark.parametrize(("group", "overrides", "expected"), PLUGIN_CASES, ids=[c[1][-1] for c in PLUGIN_CASES])
def test_launcher_and_sweeper_keys_are_checked_against_the_plugin_schema(tmp_path, group, overrides, expected):
    cfg = compose_cfg(overrides, tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert str(err.value).startswith(expected), str(err.value)


GROUPS = sorted(p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir() and p.name != "local")


@pytest.mark.parametrize("group", GROUPS)
def test_unknown_group_option_names_the_group_and_its_options(tmp_path, group):
    with pytest.raises(MissingConfigException) as err:
        compose_cfg([f"{group}=bogus"], tmp_path)
    message = str(err.value)
    assert f"'{group}/bogus'" in message
    shipped = sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))
    assert shipped[0] in message  # the valid options are listed


def test_every_group_is_covered_here():
    covered = {c[0] for c in CASES} | {c[0] for c in HYDRA_CASES} | {c[0] for c in PLUGIN_CASES}
    assert set(GROUPS) - {"experiment"} <= covered  # experiment: only options (composes the other groups)


@pytest.mark.parametrize("config_name,extra", [("eval", ["ckpt_path=x.ckpt", "+evaluate_twice=true"]),
                                               ("export", ["ckpt_path=x.ckpt", "format=tflite"])])
def test_other_entry_points_top_level_is_checked(tmp_path, config_name, extra):
    cfg = compose_cfg(extra, tmp_path, config_name=config_name)
    with pytest.raises(ConfigError, match=r"^(evaluate_twice: unknown key for the eval config|format: 'tflite' is "
                                          r"not a valid choice; valid choices: 'onnx', 'torchscript')"):
        validate_config(cfg)
