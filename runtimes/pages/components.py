"""Connected pieces of ink: found, cleaned of specks and frames, measured for the page's
writing size, and listed pixel by pixel for the line finders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtimes.pages._deps import require_cv2

MIN_SPECK_PX = 4  # pieces below this many pixels are noise at any scale
SPECK_SHARE = 0.08  # ... and below (this share of the writing height) squared
FRAME_SIZE = 3.0  # pieces longer than this many writing heights ...
FRAME_FILL = 0.04  # ... with ink on less than this share of their box are frames, not writing


@dataclass(frozen=True)
class Pieces:
    """Bounding boxes and sizes of the pieces of ink; row 0 stands for the paper."""

    boxes: np.ndarray  # (n + 1, 4) int: x, y, width, height
    areas: np.ndarray  # (n + 1,) ink pixels

    @property
    def count(self) -> int:
        return len(self.areas) - 1


def find_components(ink: np.ndarray) -> tuple[np.ndarray, Pieces]:
    """The label image (0 paper, i piece i) and the pieces."""
    cv2 = require_cv2()
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return labels, Pieces(stats[:, :4].astype(np.int64), stats[:, 4].astype(np.int64))


def writing_height(pieces: Pieces) -> float:
    """The height of a typical piece of writing (a word in cursive, a letter in print),
    the median of piece heights weighted by ink, so dots and commas barely count."""
    if pieces.count == 0:
        return 0.0
    heights = pieces.boxes[1:, 3].astype(np.float64)
    weights = pieces.areas[1:].astype(np.float64)
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def keep_writing(pieces: Pieces) -> tuple[np.ndarray, float]:
    """Which pieces can be writing (a bool per label), and the page's writing height.

    Dropped: specks (noise, dust) and thin strokes that run far beyond a word, the edges of
    a page scanned askew, rules, frames: ink covers a small share of their bounding box.
    """
    height = writing_height(pieces)
    keep = pieces.areas >= max(MIN_SPECK_PX, (SPECK_SHARE * height) ** 2)
    boxes = pieces.boxes
    large = np.maximum(boxes[:, 2], boxes[:, 3]) > FRAME_SIZE * height
    sparse = pieces.areas < FRAME_FILL * boxes[:, 2] * boxes[:, 3]
    keep &= ~(large & sparse)
    keep[0] = False
    return keep, height


@dataclass(frozen=True)
class InkPixels:
    """Every kept ink pixel once: where it is on the page, where it is once the page is
    deskewed, and which piece it belongs to. Line finders work on these, not on images."""

    xs: np.ndarray  # int page column
    ys: np.ndarray  # int page row
    pieces: np.ndarray  # int piece number, 1-based, into the kept Pieces
    rx: np.ndarray | None = None  # float column in the deskewed frame
    ry: np.ndarray | None = None  # float row in the deskewed frame
    frame: tuple[int, int] = (0, 0)  # (width, height) of the deskewed frame

    @property
    def count(self) -> int:
        return len(self.xs)

    def deskewed(self, matrix: np.ndarray, frame: tuple[int, int]) -> InkPixels:
        """The same pixels with their place in the frame of the 2x3 deskew ``matrix``."""
        rx = self.xs * matrix[0, 0] + self.ys * matrix[0, 1] + matrix[0, 2]
        ry = self.xs * matrix[1, 0] + self.ys * matrix[1, 1] + matrix[1, 2]
        return InkPixels(self.xs, self.ys, self.pieces, rx, ry, frame)


def kept_pixels(labels: np.ndarray, pieces: Pieces, keep: np.ndarray) -> tuple[InkPixels, Pieces]:
    """The pixels of the kept pieces, pieces renumbered 1.. in order (no image is relabelled)."""
    ys, xs = np.nonzero(labels)
    label = labels[ys, xs]
    chosen = keep[label]
    renumber = np.cumsum(keep)  # kept piece i -> its rank among kept pieces, 1-based
    kept = np.concatenate([[True], keep[1:]])
    return (
        InkPixels(xs[chosen], ys[chosen], renumber[label[chosen]]),
        Pieces(pieces.boxes[kept], pieces.areas[kept]),
    )
