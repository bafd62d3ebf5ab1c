"""Semantic segmentation: U-Net (Ronneberger et al.) and U-Nets on a pretrained encoder (torchvision ResNet or any
timm model through ``features_only``)."""
