"""Connected pieces of ink: found, cleaned of specks, and measured for the page's writing size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtimes.pages._deps import require_cv2

MIN_SPECK_PX = 4  # pieces below this many pixels are noise at any scale
SPECK_SHARE = 0.08  # ... and below (this share of the writing height) squared
FRAME_SIZE = 3.0  # pieces longer than this many writing heights ...
FRAME_FILL = 0.04  # ... with ink on less than this share of their box are frames, not writing


@dataclass(frozen=True)
class Components:
    labels: np.ndarray  # int32 image, 0 = paper, i = piece i (1-based)
    boxes: np.ndarray  # (n + 1, 4) int: x, y, width, height per label (row 0 unused)
    areas: np.ndarray  # (n + 1,) ink pixels per label
    centroids: np.ndarray  # (n + 1, 2) float x, y

    @property
    def count(self) -> int:
        return len(self.areas) - 1


def find_components(ink: np.ndarray) -> Components:
    cv2 = require_cv2()
    _, labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return Components(
        labels, stats[:, :4].astype(np.int64), stats[:, 4].astype(np.int64), centroids
    )


def writing_height(components: Components) -> float:
    """The height of a typical piece of writing (a word in cursive, a letter in print),
    the median of piece heights weighted by ink, so dots and commas barely count."""
    if components.count == 0:
        return 0.0
    heights = components.boxes[1:, 3].astype(np.float64)
    weights = components.areas[1:].astype(np.float64)
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def keep_writing(components: Components) -> tuple[Components, float]:
    """The pieces that can be writing, relabelled, and the page's writing height.

    Dropped: specks (noise, dust) and thin strokes that run far beyond a word, the edges of
    a page scanned askew, rules, frames: ink covers a small share of their bounding box.
    """
    height = writing_height(components)
    keep = components.areas >= max(MIN_SPECK_PX, (SPECK_SHARE * height) ** 2)
    boxes = components.boxes
    large = np.maximum(boxes[:, 2], boxes[:, 3]) > FRAME_SIZE * height
    sparse = components.areas < FRAME_FILL * boxes[:, 2] * boxes[:, 3]
    keep &= ~(large & sparse)
    keep[0] = True
    new_label = np.cumsum(keep) - 1  # kept pieces numbered 1.. in order; specks become 0
    new_label[~keep] = 0
    labels = new_label[components.labels].astype(np.int32)
    return Components(
        labels, components.boxes[keep], components.areas[keep], components.centroids[keep]
    ), height


@dataclass(frozen=True)
class InkPixels:
    """Every ink pixel once: where it is on the page, where it is once the page is deskewed,
    and which piece it belongs to. Line finders work on these, not on rotated images."""

    xs: np.ndarray  # int page column
    ys: np.ndarray  # int page row
    rx: np.ndarray  # float column in the deskewed frame
    ry: np.ndarray  # float row in the deskewed frame
    pieces: np.ndarray  # int piece label (1-based, as in Components.labels)
    frame: tuple[int, int]  # (width, height) of the deskewed frame

    @property
    def count(self) -> int:
        return len(self.xs)


def ink_pixels(
    components: Components,
    matrix: np.ndarray,
    frame: tuple[int, int],
    where: tuple[np.ndarray, np.ndarray],
) -> InkPixels:
    """The pixels of every piece (``where``: their rows and columns, from ``np.nonzero``),
    also mapped by the 2x3 deskew ``matrix``."""
    ys, xs = where
    rx = xs * matrix[0, 0] + ys * matrix[0, 1] + matrix[0, 2]
    ry = xs * matrix[1, 0] + ys * matrix[1, 1] + matrix[1, 2]
    return InkPixels(xs, ys, rx, ry, components.labels[ys, xs], frame)
