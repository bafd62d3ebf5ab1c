"""The families shipped with visiontrain (one ``register`` each). A new family inside the package adds one here."""

from visiontrain.families.registry import Family, register

_MAP = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1", "mar_10", "mar_100")
_DETECTION = ("train/loss", "train/*",
              *(f"{{stage}}/{k}" for k in _MAP), *(f"{{stage}}/{k}_segm" for k in _MAP),
              "{stage}/ap/*", "{stage}/ap_segm/*")

register(Family(
    name="classification",
    module="visiontrain.models.classification.module.ImageClassifier",
    datamodule="visiontrain.data.classification.ClassificationDataModule",
    data_examples="data=digits, shapes, image_folder, cifar10",
    metric="val/acc", mode="max", task_name="classify",
    metrics=("{stage}/loss", "{stage}/acc", "{stage}/f1", "transfer/backbone_frozen"),
))
register(Family(
    name="localization",
    module="visiontrain.models.classification.localization.ObjectLocalizer",
    datamodule="visiontrain.data.localization.LocalizationDataModule",
    data_examples="data=shapes_loc",
    metric="val/iou", mode="max", task_name="localize",
    metrics=("{stage}/loss", "{stage}/acc", "{stage}/iou", "transfer/backbone_frozen"),
))
register(Family(
    name="detection",
    module="visiontrain.models.detection.module.Detector",
    datamodule="visiontrain.data.detection.DetectionDataModule",
    data_examples="data=shapes_det, coco, voc, yolo_format",
    metric="val/map_50", mode="max", task_name="detect",
    metrics=_DETECTION, export="custom",
))
register(Family(
    name="yolo",
    module="visiontrain.models.yolo.module.YOLODetector",
    datamodule="visiontrain.data.yolo_data.YoloDataModule",
    adopts=("visiontrain.data.detection.DetectionDataModule",),
    data_examples="data=shapes_det_yolo, or any detection data: shapes_det, coco, voc, yolo_format",
    metric="val/map_50", mode="max", task_name="detect_yolo",
    metrics=(*_DETECTION, "{stage}/loss"), image_size=("model.img_size", "data.img_size"), sizes_data=("img_size",),
))
register(Family(
    name="segmentation",
    module="visiontrain.models.segmentation.module.SemanticSegmenter",
    datamodule="visiontrain.data.segmentation.SegmentationDataModule",
    data_examples="data=shapes_seg, mask_folder, coco_semantic",
    metric="val/miou", mode="max", task_name="segment",
    metrics=("{stage}/loss", "train/loss_*", "{stage}/miou", "{stage}/dice", "{stage}/iou/*"),
))
register(Family(
    name="restoration",
    module="visiontrain.models.restoration.module.ImageRestorer",
    datamodule="visiontrain.data.restoration.RestorationDataModule",
    data_examples="data=restore_denoise, restore_inpaint, restore_photos",
    metric="val/psnr", mode="max", task_name="restore",
    metrics=("{stage}/loss", "{stage}/psnr", "{stage}/ssim", "{stage}/psnr_input", "{stage}/compression_ratio"),
    export="none",  # no export_model() yet: vt-export says so
))
register(Family(
    name="style",
    module="visiontrain.models.style.module.StyleTransfer",
    datamodule="visiontrain.data.style.StyleDataModule",
    data_examples="data=style",
    metric="total/loss", mode="min", task_name="style_transfer",
    metrics=("style/loss", "content/loss", "tv/loss", "total/loss"),
    predict="stored", export="none",
))
