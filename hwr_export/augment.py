"""Training-time augmentation of line images: the writer variation IAM's 1,954 lines lack.

Works on grayscale PIL images at model height, with an explicit numpy Generator so that a
resumed run sees exactly the augmentations an uninterrupted run would have seen.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

PAPER = 255


def augment_line(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Random slant, scale, placement, stroke width, blur, contrast and noise; same height out."""
    height = image.height
    if rng.random() < 0.7:
        image = _shear(image, rng.uniform(-0.4, 0.4))
    if rng.random() < 0.7:
        image = _rescale(image, rng.uniform(0.8, 1.2), rng.uniform(0.75, 1.0), rng, height)
    if rng.random() < 0.3:
        thicker = rng.random() < 0.6  # MinFilter spreads dark ink, MaxFilter thins it
        image = image.filter(ImageFilter.MinFilter(3) if thicker else ImageFilter.MaxFilter(3))
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    pixels = np.asarray(image, dtype=np.float32)
    if rng.random() < 0.5:
        ink, paper = rng.uniform(0, 90), rng.uniform(190, 255)
        pixels = ink + pixels * (paper - ink) / 255.0
    if rng.random() < 0.3:
        pixels = pixels + rng.normal(0, rng.uniform(2, 12), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _shear(image: Image.Image, slant: float) -> Image.Image:
    """Shear horizontally (handwriting slant), widening the canvas so no ink is cut."""
    w, h = image.size
    extra = int(abs(slant) * h + 0.5)
    # Output pixel (x, y) samples input (x + slant * y + shift, y); the shift keeps x >= 0.
    shift = -slant * h if slant > 0 else 0.0
    return image.transform(
        (w + extra, h),
        Image.Transform.AFFINE,
        (1, slant, shift, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
        fillcolor=PAPER,
    )


def _rescale(
    image: Image.Image, sx: float, sy: float, rng: np.random.Generator, height: int
) -> Image.Image:
    """Stretch the width by ``sx``, shrink the text by ``sy`` and place it at a random height."""
    w, h = image.size
    new_w, new_h = max(1, int(w * sx * sy)), max(1, int(h * sy))
    scaled = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
    canvas = Image.new("L", (new_w, height), PAPER)
    canvas.paste(scaled, (0, int(rng.integers(0, height - new_h + 1))))
    return canvas
