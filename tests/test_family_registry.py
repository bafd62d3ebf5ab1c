"""The family registry feeds config validation: defaults, the metric a family logs, which data a model takes,
which code a checkpoint may name."""

import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf, open_dict
from PIL import Image

from helpers import FAST, compose_cfg
from visiontrain.errors import ConfigError, WeightsError
from visiontrain.families import families, family_of_datamodule, family_of_module
from visiontrain.families.config import apply_family_defaults
from visiontrain.train import train
from visiontrain.run.job import run_job
from visiontrain.config.validation import validate_config


def test_every_family_names_importable_lightning_classes():
    import pytorch_lightning as pl
    from hydra.utils import get_class

    names = {f.name for f in families()}
    assert {"classification", "localization", "detection", "yolo", "segmentation", "restoration", "style"} <= names
    for fam in families():
        assert issubclass(get_class(fam.module), pl.LightningModule)
        assert issubclass(get_class(fam.datamodule), pl.LightningDataModule)
        assert fam.logs(fam.metric), fam


def test_the_most_specific_family_wins():
    from visiontrain.data.yolo_data import YoloDataModule
    from visiontrain.models.classification.localization import ObjectLocalizer

    assert family_of_module(ObjectLocalizer).name == "localization"  # an ImageClassifier too
    assert family_of_datamodule(YoloDataModule).name == "yolo"  # a DetectionDataModule too
    assert family_of_module(torch.nn.Module) is None


@pytest.mark.parametrize(("overrides", "metric", "mode"), [
    ([], "val/acc", "max"),
    (["model=unet", "data=shapes_seg"], "val/miou", "max"),
    (["model=restoration_unet", "data=restore_denoise"], "val/psnr", "max"),
    (["model=style", "data=style"], "total/loss", "min"),
    (["model=unet", "data=shapes_seg", "optimized_metric=val/dice", "optimized_mode=min"], "val/dice", "min"),
])
def test_optimized_metric_defaults_to_the_family(tmp_path, overrides, metric, mode):
    cfg = compose_cfg(overrides, tmp_path)
    assert (cfg.optimized_metric, cfg.optimized_mode) == (metric, mode)
    assert cfg.callbacks.early_stopping.monitor == metric and cfg.callbacks.model_checkpoint.mode == mode


def test_explicit_null_takes_the_family_default(tmp_path):
    cfg = compose_cfg(["model=unet", "data=shapes_seg", "optimized_metric=null", "optimized_mode=null"], tmp_path)
    apply_family_defaults(cfg)
    assert (cfg.optimized_metric, cfg.optimized_mode) == ("val/miou", "max")
    assert cfg.callbacks.early_stopping.monitor == "val/miou"


def test_a_metric_the_family_never_logs_is_one_line_error_before_data(tmp_path):
    cfg = compose_cfg(["model=unet", "data=shapes_seg", "optimized_metric=val/acc"], tmp_path)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    assert message.startswith("optimized_metric: segmentation models never log 'val/acc'") and "\n" not in message
    assert "val/miou" in message
    assert not (tmp_path / "data").exists()
    cfg = compose_cfg(["model=unet", "data=shapes_seg", "optimized_metric=val/iou/square"], tmp_path)
    validate_config(cfg)  # per-class names match the family's patterns


def _mask_folder(root):
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(12):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:8 + i % 5 + 8, 4:20] = 1
        image = rng.integers(0, 60, (32, 32, 3), dtype=np.uint8)
        image[mask == 1] = 200
        Image.fromarray(image).save(root / "images" / f"{i:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:02d}.png")
    (root / "classes.txt").write_text("background\nblob\n")
    return root


def test_unet_on_mask_folder_trains_without_optimized_metric(tmp_path):
    """Before the registry, early stopping monitored the classifier's val/acc and crashed after the first epoch."""
    root = _mask_folder(tmp_path / "masks_data")
    cfg = compose_cfg([*FAST, "model=unet", "data=mask_folder", f"data.source.root={root}", "data.image_size=32",
                       "data.num_workers=0", "data.batch_size=4", "model.unet.depth=2", "model.unet.base_width=8",
                       "model.log_images=0"], tmp_path)
    assert cfg.callbacks.early_stopping is not None  # the trap: early stopping is on
    run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "finished"
    assert {"val/miou", "test/miou"} <= set(record["metrics"])


@pytest.mark.parametrize(("overrides", "task"), [
    ([], "quickstart"),                                   # plain vt-train is the quickstart
    (["model.optimizer.lr=0.01", "seed=3"], "quickstart"),  # so are its variants
    (["data=shapes"], "classify"),
    (["model=unet", "data=mask_folder"], "segment"),      # once: outputs/quickstart/ for every family
    (["model=yolo", "data=yolo_format"], "detect_yolo"),
    (["model=faster_rcnn", "data=coco"], "detect"),
    (["model=style", "data=style"], "style_transfer"),
    (["experiment=seg_shapes_unet"], "seg_shapes_unet"),  # an experiment names its runs
    (["model=unet", "data=shapes_seg", "task_name=mine"], "mine"),
])
def test_runs_land_under_the_family_task_name(tmp_path, overrides, task):
    cfg = compose_cfg(overrides, tmp_path)
    assert cfg.task_name == task


def test_yolo_image_size_is_an_ordinary_model_override(tmp_path):
    cfg = compose_cfg(["model=yolo", "data=coco", "model.img_size=640"], tmp_path)
    apply_family_defaults(cfg)
    assert cfg.data.img_size == 640
    cfg = compose_cfg(["model=yolo", "data=shapes_det_yolo"], tmp_path)
    apply_family_defaults(cfg)
    assert cfg.data.img_size == 256 and cfg.model.img_size is None  # null: the data config's size


@pytest.mark.parametrize("data", ["shapes_det", "coco", "voc", "yolo_format"])
def test_yolo_with_any_detection_data_gets_the_yolo_pipeline(tmp_path, data):
    cfg = compose_cfg(["model=yolo", f"data={data}"], tmp_path)
    apply_family_defaults(cfg)
    assert cfg.data._target_ == "visiontrain.data.yolo_data.YoloDataModule"
    with open_dict(cfg):  # the real sources need paths; the combination itself is what is checked
        cfg.data.source = OmegaConf.create({"_target_": "builtins.dict"})
    validate_config(cfg)
    assert cfg.optimized_metric == "val/map_50"


def test_untrusted_user_model_is_refused_at_train_with_how_to_trust(tmp_path, monkeypatch):
    cfg = compose_cfg(["model._target_=torch.nn.Identity"], tmp_path)
    with pytest.raises(Exception) as err:
        OmegaConf.to_container(cfg, resolve=True)  # no family, so no default metric: says what to set
    assert "belongs to no registered family" in str(err.value)
    cfg = compose_cfg(["model._target_=torch.nn.Identity", "optimized_metric=val/acc", "optimized_mode=max"],
                      tmp_path)
    with pytest.raises(ConfigError, match=r"model._target_: 'torch.nn.Identity' is outside visiontrain and not "
                                          r"trusted \(trust its package with trusted_modules=\[torch\]"):
        validate_config(cfg)
    monkeypatch.setenv("VT_TRUSTED_MODULES", "numpy,torch")
    validate_config(cfg)


def test_untrusted_class_in_a_checkpoint_is_refused(tmp_path, monkeypatch):
    from visiontrain.weights.checkpoints import CONFIG_KEY, load_module

    path = tmp_path / "x.ckpt"
    stored = {"model": {"_target_": "mypkg.models.Net"}}
    torch.save({CONFIG_KEY: stored, "state_dict": {}}, path)
    with pytest.raises(WeightsError, match=r"model class 'mypkg.models.Net' is outside visiontrain and not trusted; "
                                           r"refusing to instantiate it \(trust its package with "
                                           r"trusted_modules=\[mypkg\] or VT_TRUSTED_MODULES=mypkg\)"):
        load_module(path, stored)
    monkeypatch.setenv("VT_TRUSTED_MODULES", "mypkg")
    with pytest.raises(WeightsError, match="cannot import model class 'mypkg.models.Net'"):
        load_module(path, stored)  # trusted now: it is only missing
    with pytest.raises(WeightsError, match="not trusted"):
        load_module(path, {"model": {"_target_": "evil.X"}})


def test_protocols_name_the_missing_method():
    import pytorch_lightning as pl

    from visiontrain.families.protocols import export_kind, prediction_kind

    class Bare(pl.LightningModule):
        pass

    class Predicts(pl.LightningModule):
        def predict_step(self, batch, batch_idx):
            return batch

    with pytest.raises(ConfigError, match=r"Bare cannot predict: it defines no predict_step or prediction_writer"):
        prediction_kind(Bare())
    with pytest.raises(ConfigError, match=r"Predicts cannot predict: it defines no prediction_writer \("):
        prediction_kind(Predicts())
    with pytest.raises(ConfigError, match=r"Bare cannot be exported: it defines no export_model\(\)"):
        export_kind(Bare())
    from visiontrain.models.style.module import StyleTransfer

    assert prediction_kind(StyleTransfer.__new__(StyleTransfer)) == "stored"
