"""Page skew: the angle at which the ink's horizontal projection is sharpest, and the rotation
that undoes it (with its inverse, to map what is found back onto the page).

Text lines project to tall narrow peaks only when the projection runs along them; the sum of
squared bin counts measures that sharpness. Only a sample of ink pixels is projected, so the
search costs a few milliseconds whatever the page size.
"""

from __future__ import annotations

import math

import numpy as np

MAX_SAMPLES = 30_000  # ink pixels projected per angle
COARSE_STEP = 0.5  # degrees
FINE_STEP = 0.1


def _sharpness(xs: np.ndarray, ys: np.ndarray, angle: float, bin_px: float) -> float:
    a = math.radians(angle)
    projected = ys * math.cos(a) + xs * math.sin(a)
    counts = np.bincount(((projected - projected.min()) / bin_px).astype(np.int64))
    return float(np.dot(counts, counts))


def estimate_skew(
    xs: np.ndarray, ys: np.ndarray, max_angle: float, bin_px: float, seed: int = 0
) -> float:
    """Degrees the ink pixels' lines rise to the right (counter-clockwise on screen), within
    +-max_angle."""
    if xs.size < 2 or max_angle <= 0:
        return 0.0
    if xs.size > MAX_SAMPLES:  # a fixed seed: the same page always gets the same angle
        pick = np.random.default_rng(seed).choice(xs.size, MAX_SAMPLES, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs, ys = xs.astype(np.float64), ys.astype(np.float64)
    bin_px = max(1.0, bin_px)

    def best(angles: np.ndarray) -> float:
        scores = [_sharpness(xs, ys, float(a), bin_px) for a in angles]
        return float(angles[int(np.argmax(scores))])

    coarse = best(np.arange(-max_angle, max_angle + 1e-9, COARSE_STEP))
    fine = np.arange(coarse - COARSE_STEP, coarse + COARSE_STEP + 1e-9, FINE_STEP)
    return round(best(np.clip(fine, -max_angle, max_angle)), 2)


def deskew_matrix(angle: float, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 matrix rotating a page of ``size`` (w, h) clockwise by ``angle`` degrees onto a canvas
    large enough to hold all of it, and that canvas's size."""
    w, h = size
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    new_w = math.ceil(abs(w * cos) + abs(h * sin))
    new_h = math.ceil(abs(w * sin) + abs(h * cos))
    matrix = np.array([[cos, -sin, 0.0], [sin, cos, 0.0]])
    matrix[:, 2] = np.array([new_w / 2, new_h / 2]) - matrix[:, :2] @ np.array([w / 2, h / 2])
    return matrix, (new_w, new_h)


def map_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(N, 2) points through a 2x3 affine matrix."""
    moved: np.ndarray = points @ matrix[:, :2].T + matrix[:, 2]
    return moved
