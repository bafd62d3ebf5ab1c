"""The detector family: offline by default, COCO weights only from the cache (read weights_only) with class layers
replaced, a non-finite loss stops with one clear line, W&B gets native box overlays."""

import pytest
import torch

from visiontrain.errors import ConfigError, TrainingError, WeightsError
from visiontrain.models.detection.factory import build_detector
from visiontrain.models.detection.module import Detector

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """An empty torch hub cache, and any download attempt fails as it does offline."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def no_network(url, *args, **kwargs):
        raise OSError(f"no network for {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path / "hub" / "checkpoints"


def test_default_build_touches_no_weights(empty_hub):
    model = build_detector(ARCH, num_classes=5, min_size=96, max_size=96)
    assert model.roi_heads.box_predictor.cls_score.out_features == 5
    assert model.transform.min_size == (96,) and model.transform.max_size == 96
    assert not empty_hub.exists()


def test_named_weights_offline_say_which_file_goes_where(empty_hub):
    with pytest.raises(WeightsError, match=r"fasterrcnn_mobilenet_v3_large_320_fpn-.*\.pth .* into .*hub/checkpoints"):
        build_detector(ARCH, num_classes=5, weights="DEFAULT")
    with pytest.raises(WeightsError, match=r"mobilenet_v3_large-.*\.pth"):
        build_detector(ARCH, num_classes=5, weights_backbone="IMAGENET1K_V1")
    with pytest.raises(ConfigError, match=r"model.weights: 'NOPE' is not a weights name; valid choices: DEFAULT"):
        build_detector(ARCH, num_classes=5, weights="NOPE")


def test_cached_coco_weights_load_and_class_layers_are_replaced(empty_hub):
    from torchvision.models.detection import FasterRCNN_MobileNet_V3_Large_320_FPN_Weights as W

    published = build_detector(ARCH, num_classes=91)  # stands in for the published file, same tensor names
    empty_hub.mkdir(parents=True)
    torch.save(published.state_dict(), empty_hub / W.DEFAULT.url.rsplit("/", 1)[-1])
    model = build_detector(ARCH, num_classes=4, weights="DEFAULT")
    assert model.roi_heads.box_predictor.cls_score.out_features == 4
    assert model.roi_heads.box_predictor.bbox_pred.out_features == 16
    torch.testing.assert_close(model.rpn.head.conv[0][0].weight, published.rpn.head.conv[0][0].weight)


def test_non_finite_loss_stops_with_one_line():
    det = Detector(ARCH, class_names=["a", "b"], min_size=64, max_size=64)

    class Exploding(torch.nn.Module):
        def forward(self, images, targets=None):
            return {"loss_classifier": torch.tensor(float("nan")), "loss_box_reg": torch.tensor(0.5)}

    det.model = Exploding()
    batch = ([torch.rand(3, 64, 64)], [{"boxes": torch.tensor([[1.0, 1, 9, 9]]), "labels": torch.tensor([0])}])
    with pytest.raises(TrainingError, match=r"non-finite training loss at step 0 \(loss_classifier=nan, "
                                          r"loss_box_reg=0\.5\); lower model.optimizer.lr"):
        det.training_step(batch, 0)


def test_wandb_gets_native_box_overlays(tmp_path, monkeypatch):
    from pytorch_lightning.loggers import WandbLogger

    from visiontrain.models.shared.detection_overlays import log_detections

    calls, tables = [], []
    monkeypatch.setattr(WandbLogger, "log_image", lambda self, **kw: calls.append(kw))
    monkeypatch.setattr(WandbLogger, "log_table", lambda self, key, **kw: tables.append((key, kw)))

    class Trainer:
        is_global_zero, global_step, default_root_dir = True, 7, str(tmp_path)
        loggers = [WandbLogger(save_dir=str(tmp_path), offline=True)]

    pred = {"boxes": torch.tensor([[1.0, 2, 30, 40], [5, 5, 9, 9]]), "scores": torch.tensor([0.9, 0.1]),
            "labels": torch.tensor([1, 0])}
    gt = {"boxes": torch.tensor([[0.0, 2, 31, 41]]), "labels": torch.tensor([1])}
    log_detections(Trainer(), "val/detections", [torch.rand(3, 48, 48)], [pred], [gt], ["cat", "dog"], 0.3)
    (call,) = calls
    assert call["key"] == "val/detections" and call["step"] == 7 and call["images"][0].shape == (48, 48, 3)
    boxes = call["boxes"][0]
    (p,) = boxes["predictions"]["box_data"]  # the 0.1 box is under the threshold
    assert p["box_caption"] == "dog 0.90" and p["position"] == {"minX": 1.0, "minY": 2.0, "maxX": 30.0, "maxY": 40.0}
    assert boxes["ground_truth"]["box_data"][0]["class_id"] == 1
    assert boxes["predictions"]["class_labels"] == {0: "cat", 1: "dog"}
    (key, table), = tables  # the same samples as a table row, its image carrying the boxes
    assert key == "val/samples" and table["data"][0][2:] == [1, 1, "dog"]
    assert (tmp_path / "val_batch_labels.png").is_file() and (tmp_path / "val_batch_pred.png").is_file()
