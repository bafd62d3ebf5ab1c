"""Object detection and instance segmentation: torchvision detectors through one LightningModule."""
