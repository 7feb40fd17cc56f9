"""Media: perceptual and exact hashing of images and video, hash indexes and matching."""
