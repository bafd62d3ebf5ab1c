"""Image-to-image restoration: denoising, inpainting and compression with fully convolutional networks."""
