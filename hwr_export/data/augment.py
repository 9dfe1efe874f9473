"""Training-time augmentation of line images: the writer variation IAM's 1,954 lines lack.

Works on grayscale PIL images at model height, with an explicit numpy Generator so that a
resumed run sees exactly the augmentations an uninterrupted run would have seen.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

PAPER = 255


def augment_line(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Random slant, scale, placement, elastic warp, stroke width, erasing, blur, contrast and
    noise; same height out."""
    height = image.height
    if rng.random() < 0.7:
        image = _shear(image, rng.uniform(-0.4, 0.4))
    if rng.random() < 0.5:
        image = grid_distort(
            image,
            rng,
            cell=rng.uniform(0.5, 1.2) * height,
            amount=rng.uniform(0.02, 0.07) * height,
            fill=PAPER,
        )
    if rng.random() < 0.7:
        image = _rescale(image, rng.uniform(0.8, 1.2), rng.uniform(0.75, 1.0), rng, height)
    if rng.random() < 0.3:
        image = _stroke_width(image, thicker=rng.random() < 0.6)
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    pixels: np.ndarray = np.asarray(image, dtype=np.float32)
    if rng.random() < 0.3:
        pixels = _erase(pixels, rng)
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


def _stroke_width(image: Image.Image, thicker: bool) -> Image.Image:
    """MinFilter spreads dark ink; MaxFilter thins it, unless that would erase thin strokes."""
    if thicker:
        return image.filter(ImageFilter.MinFilter(3))
    thinner = image.filter(ImageFilter.MaxFilter(3))
    ink = 255 - np.asarray(image, np.float32)
    kept = (255 - np.asarray(thinner, np.float32)).sum() / max(ink.sum(), 1.0)
    return thinner if kept > 0.5 else image


def grid_distort(
    image: Image.Image, rng: np.random.Generator, cell: float, amount: float, fill: int
) -> Image.Image:
    """Elastic warp: each cell of a grid is sampled from a jittered quad (PIL's MESH transform).

    ``cell`` is the grid spacing and ``amount`` the standard deviation of the corner jitter, in
    pixels; the image border stays in place, so nothing is cut off and the size is unchanged.
    """
    w, h = image.size
    nx, ny = max(1, round(w / cell)), max(1, round(h / cell))
    xs, ys = np.round(np.linspace(0, w, nx + 1)), np.round(np.linspace(0, h, ny + 1))
    jitter = rng.normal(0, amount, (ny + 1, nx + 1, 2))
    jitter[[0, -1], :, 1] = 0
    jitter[:, [0, -1], 0] = 0
    src_x = np.clip(xs[None, :] + jitter[..., 0], 0, w)
    src_y = np.clip(ys[:, None] + jitter[..., 1], 0, h)
    mesh = []
    for j in range(ny):
        for i in range(nx):
            box = (int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1]))
            quad = (
                src_x[j, i], src_y[j, i],
                src_x[j + 1, i], src_y[j + 1, i],
                src_x[j + 1, i + 1], src_y[j + 1, i + 1],
                src_x[j, i + 1], src_y[j, i + 1],
            )  # fmt: skip
            mesh.append((box, quad))
    return image.transform(
        (w, h), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR, fillcolor=fill
    )


def _erase(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paint one to three small patches with paper: occlusions, faded ink, scanner dust."""
    h, w = pixels.shape
    pixels = pixels.copy()
    for _ in range(int(rng.integers(1, 4))):
        ph, pw = int(rng.integers(h // 8, h // 3 + 1)), int(rng.integers(h // 8, h // 2 + 1))
        y, x = int(rng.integers(0, max(1, h - ph))), int(rng.integers(0, max(1, w - pw)))
        pixels[y : y + ph, x : x + pw] = np.float32(PAPER)
    return pixels
