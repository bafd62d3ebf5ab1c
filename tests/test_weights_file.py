"""checkpoints/weights.pt: the tested checkpoint without optimizer or loop state, fp16 where safe, YOLO's EMA only —
and it is what predict, export and fine-tuning read."""

import json

import pytorch_lightning as pl
import torch

from helpers import FAST, compose_cfg
from visiontrain.models.yolo.module import YOLODetector
from visiontrain.train import train
from visiontrain.weights.checkpoints import load_checkpoint, load_module
from visiontrain.run.job import run_job
from visiontrain.weights.weights_file import _half_if_safe, write_weights_file


def _yolo_checkpoint(tmp_path):
    """A YOLO-n checkpoint as training writes one: net, a different EMA, AdamW state for every parameter."""
    module = YOLODetector(class_names=["a", "b"], img_size=64)
    with torch.no_grad():
        for p in module.ema.module.parameters():
            p.mul_(1.02)  # the EMA is not the raw network: the file must keep the EMA
    params = list(module.net.parameters())
    optimizer = torch.optim.AdamW(params)
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    checkpoint = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                  "pytorch-lightning_version": pl.__version__, "epoch": 3, "global_step": 120,
                  "optimizer_states": [optimizer.state_dict()], "loops": {}, "callbacks": {},
                  "visiontrain_config": {"model": {"_target_": "visiontrain.models.yolo.module.YOLODetector"}}}
    path = tmp_path / "last.ckpt"
    torch.save(checkpoint, path)
    return module, path


def test_yolo_weights_file_keeps_the_ema_in_fp16_and_a_fraction_of_the_size(tmp_path):
    module, ckpt = _yolo_checkpoint(tmp_path)
    out = write_weights_file(ckpt, YOLODetector)
    assert out == tmp_path / "weights.pt"
    assert out.stat().st_size < 0.2 * ckpt.stat().st_size  # no optimizer, one network copy, fp16
    stored = load_checkpoint(out)
    assert "optimizer_states" not in stored and "loops" not in stored and stored["epoch"] == 3
    assert not any(k.startswith("ema.module.") for k in stored["state_dict"])
    assert stored["state_dict"]["net.head.cls.0.0.0.weight"].dtype == torch.float16

    reloaded = load_module(out, stored["visiontrain_config"]).eval()
    module.eval()
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        want = module.inference_net(image)
        def error(maps):
            return max(float((g - w).abs().max()) for g, w in zip(maps, want))

        raw = error(module.net(image))  # how far the raw network is from the EMA
        for got in (reloaded.inference_net(image), reloaded.net(image)):  # the EMA came back into both
            assert error(got) < raw / 10, (error(got), raw)  # fp16 rounding only


def test_yolo_fine_tunes_from_the_weights_file(tmp_path):
    module, ckpt = _yolo_checkpoint(tmp_path)
    out = write_weights_file(ckpt, YOLODetector)
    tuned = YOLODetector(class_names=["a", "b", "c"], img_size=64, weights_path=str(out))
    ema_stem = module.ema.module.state_dict()["backbone.stem.0.0.weight"]
    torch.testing.assert_close(tuned.net.state_dict()["backbone.stem.0.0.weight"], ema_stem, atol=1e-3, rtol=1e-3)


def test_fp16_only_where_values_survive():
    assert _half_if_safe(torch.tensor([1.0, -2.5])).dtype == torch.float16
    assert _half_if_safe(torch.tensor([1e-9, 1.0])).dtype == torch.float32   # would underflow to 0
    assert _half_if_safe(torch.tensor([7e4])).dtype == torch.float32        # beyond fp16's range
    assert _half_if_safe(torch.tensor([3])).dtype == torch.int64            # counters stay integers


def test_training_writes_the_weights_file_that_predicts_as_the_checkpoint(tmp_path):
    cfg = compose_cfg([*FAST, "data.image_size=16"], tmp_path)
    run_job(cfg, train)
    run = tmp_path / "run"
    record = json.loads((run / "metrics.json").read_text())
    weights = run / "checkpoints" / "weights.pt"
    assert weights.is_file() and weights.stat().st_size < (run / "checkpoints" / "last.ckpt").stat().st_size / 2
    stored = load_checkpoint(weights)
    assert stored["visiontrain_weights"]["from"] == record["best_model_path"].rsplit("/", 1)[-1]
    a = load_module(record["best_model_path"], stored["visiontrain_config"]).eval()
    b = load_module(weights, stored["visiontrain_config"]).eval()
    images = torch.rand(8, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(a(images).argmax(1), b(images).argmax(1))
