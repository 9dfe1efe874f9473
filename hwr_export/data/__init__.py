"""Line data: dataset sources, synthetic handwriting, text, fonts and augmentation."""
