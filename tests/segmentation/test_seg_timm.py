"""The U-Net on a timm ``features_only`` encoder: any stage count, offline weights rule, trains on shapes-seg."""

import json

import pytest
import torch

from helpers import FAST, compose_cfg
from visiontrain.errors import ConfigError, WeightsError
from visiontrain.models.segmentation.module import SemanticSegmenter
from visiontrain.models.segmentation.resnet_unet import EncoderConfig

timm = pytest.importorskip("timm")
from visiontrain.models.segmentation.timm_unet import TimmUNet  # after importorskip: needs timm

TINY = "mobilenetv3_small_050"  # five stages, strides 2-32


@pytest.mark.parametrize("backbone, decoder", [(TINY, [32, 16, 16, 16]), ("convnext_atto", [32, 16, 16])])
def test_output_matches_input_size_for_five_and_four_stage_encoders(backbone, decoder):
    net = TimmUNet(EncoderConfig(backbone=backbone, decoder_channels=decoder), 3).eval()
    assert net(torch.rand(1, 3, 50, 66)).shape == (1, 3, 50, 66)
    assert len(net.decoder) == len(decoder)


@pytest.mark.parametrize("encoder, error, message", [
    ({"backbone": "convnext_atto"}, ConfigError, r"decoder_channels: convnext_atto has 3 skips .* got \[256"),
    ({"backbone": "mobilenetv3_smal"}, ConfigError, "backbone: timm has no model 'mobilenetv3_smal'; did you mean"),
    ({"backbone": TINY, "weights": "imagenet"}, ConfigError, "weights: 'imagenet' is not a pretrained tag .*lamb_in1k"),
    ({"backbone": TINY, "weights_path": "/no/such/file.safetensors"}, WeightsError, "weights_path: .* does not exist"),
])
def test_mistakes_are_one_line_naming_the_key(encoder, error, message):
    with pytest.raises(error, match=f"^model.encoder.{message}"):
        TimmUNet(EncoderConfig(**encoder), 2)


def test_pretrained_without_network_or_cache_says_where_to_get_the_file(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as on an offline cluster
    with pytest.raises(WeightsError, match=r"huggingface.co/timm/mobilenetv3_small_050\..* set model.encoder.weights_path"):
        TimmUNet(EncoderConfig(backbone=TINY, weights="DEFAULT", decoder_channels=[8, 8, 8, 8]), 2)


def test_weights_file_loads_through_timm_and_is_not_kept_in_the_hparams(tmp_path):
    torch.manual_seed(1)
    full = timm.create_model(TINY, pretrained=False)  # a classifier's state_dict, head included, as timm ships it
    torch.save(full.state_dict(), tmp_path / "w.pth")
    encoder = {"backbone": TINY, "weights_path": str(tmp_path / "w.pth"), "decoder_channels": [8, 8, 8, 8]}
    model = SemanticSegmenter(arch="unet_timm", encoder=encoder, class_names=["bg", "x"])
    assert torch.equal(model.net.encoder.conv_stem.weight, full.conv_stem.weight)
    assert model.hparams.encoder["weights_path"] is None  # a checkpoint rebuilds without the file


@pytest.mark.slow  # a real run (~55 s on 2 cores); the encoder's build and weights are checked fast above
def test_unet_timm_trains_on_shapes_seg_and_reloads(tmp_path, data_dir):
    from visiontrain.train import train
    from visiontrain.weights.checkpoints import load_module, read_stored_config
    from visiontrain.run.job import run_job

    cfg = compose_cfg([*FAST, "experiment=seg_shapes_unet", "data.source.count=40", "data.batch_size=8",
                       "model=unet_timm", f"model.encoder.backbone={TINY}", "model.encoder.decoder_channels=[32,16,16,16]",
                       "model.encoder.lr_ratio=0.1"], tmp_path, data_dir)
    run_job(cfg, train)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "finished", record.get("error")
    assert {"train/loss", "val/miou", "test/miou", "test/dice"} <= set(record["metrics"])
    model = load_module(record["best_model_path"], read_stored_config(record["best_model_path"]))
    assert isinstance(model.net, TimmUNet)
    opt = model.configure_optimizers()
    groups = {g["name"]: g for g in (opt["optimizer"] if isinstance(opt, dict) else opt).param_groups}
    assert groups["encoder"]["lr"] == pytest.approx(0.1 * groups["decoder"]["lr"])  # model.encoder.lr_ratio
