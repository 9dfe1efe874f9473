"""The line resize, defined exactly, so that Python and JavaScript (runtimes/web/hwr.js) compute
the same pixels.

It is the antialiased bilinear resize of 8-bit images that Pillow's ``Image.resize(..., BILINEAR)``
has long used (the bundled model was trained with it), written out step by step. Pillow 13 differs
by one grey level on some pixels when a resize changes the aspect ratio (as if it ran the passes
in the other order); owning the definition keeps every runtime on the same pixels whatever Pillow
is installed.

1. Per axis, float64 filter weights: ``scale = in / out``, ``filterscale = max(scale, 1)``,
   ``support = filterscale``; output pixel ``i`` has centre ``(i + 0.5) * scale`` and reads input
   pixels ``xmin = trunc(centre - support + 0.5)`` (at least 0) up to
   ``trunc(centre + support + 0.5)`` (at most ``in``); the weight of input pixel ``x`` is
   ``tent((x - centre + 0.5) / filterscale)`` (``tent(t) = max(0, 1 - |t|)``, the division done
   as a multiplication by ``1 / filterscale``), divided by their sum accumulated left to right.
2. Weights to fixed point: ``trunc(0.5 + w * 2**22)``.
3. Horizontal pass, then vertical pass, each in integers:
   ``clip((2**21 + sum(pixel * weight)) >> 22, 0, 255)``; an axis whose size does not change is
   not resampled.

Only step 1 uses floating point; every operation there is a single IEEE-754 double operation in
a fixed order, which JavaScript numbers reproduce bit for bit. Steps 2 and 3 are exact integers.
"""

from __future__ import annotations

import numpy as np

PRECISION_BITS = 22  # fixed-point fraction bits of the weights (Pillow's 8-bit resample)


def resize_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Input index (out_size, taps) and fixed-point weight (same shape) of every output pixel.

    Taps past an output pixel's window have weight 0 (their index is clamped to a valid pixel).
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = filterscale  # the tent filter's support is 1
    taps = int(np.ceil(support)) * 2 + 1
    inverse = 1.0 / filterscale
    centre = (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    xmin = np.maximum(np.trunc(centre - support + 0.5), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(centre + support + 0.5), in_size).astype(np.int64) - xmin
    offsets = np.arange(taps, dtype=np.int64)
    inside = offsets[None, :] < xmax[:, None]
    position = (xmin[:, None] + offsets[None, :]).astype(np.float64)
    distance = np.abs((position - centre[:, None] + 0.5) * inverse)
    weight = np.where(inside & (distance < 1.0), 1.0 - distance, 0.0)
    total = np.zeros(out_size, dtype=np.float64)
    for k in range(taps):  # left to right, as the definition (and hwr.js) sums
        total = total + weight[:, k]
    weight = np.divide(weight, total[:, None], out=weight, where=total[:, None] != 0)
    fixed = np.trunc(0.5 + weight * float(1 << PRECISION_BITS)).astype(np.int64)
    index = np.minimum(xmin[:, None] + offsets[None, :], in_size - 1)
    return index, fixed


def _resample(pixels: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    """Resample an (H, W) uint8 array along ``axis`` (1: each row, 0: each column).

    int32 is exact: the sum is at most 2**21 + 255 * (2**22 + taps) < 2**31.
    """
    index, fixed = resize_weights(pixels.shape[axis], out_size)
    weights = fixed.astype(np.int32)
    shape = (pixels.shape[0], out_size) if axis == 1 else (out_size, pixels.shape[1])
    acc = np.full(shape, 1 << (PRECISION_BITS - 1), dtype=np.int32)
    source = pixels.astype(np.int32)
    for k in range(index.shape[1]):  # one tap at a time: memory stays at one output image
        weight = weights[:, k] if axis == 1 else weights[:, k, None]
        acc += np.take(source, index[:, k], axis=axis) * weight
    return (acc >> PRECISION_BITS).clip(0, 255).astype(np.uint8)  # np.clip is typed as Any


def resize_gray(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an (H, W) uint8 grayscale image to (height, width) (see the module docstring)."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ValueError(
            f"resize_gray takes an (H, W) uint8 array, got {pixels.dtype} {pixels.shape}"
        )
    if width < 1 or height < 1:
        raise ValueError(f"cannot resize to {width}x{height}")
    out = pixels
    if out.shape[1] != width:
        out = _resample(out, width, axis=1)
    if out.shape[0] != height:
        out = _resample(out, height, axis=0)
    return np.ascontiguousarray(out)
