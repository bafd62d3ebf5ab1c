"""Semantic segmentation: U-Net (Ronneberger et al.) and a U-Net on a pretrained ResNet encoder."""
