"""Lines as blobs of horizontally smeared ink (run-length smoothing), the classic alternative
to projection profiles, kept for the segmenter comparison in ``benchmarks/``.

Ink is dilated by a wide, flat kernel so that the words of one line run together; each blob is
a line. It follows curved and drifting lines, but lines whose strokes touch, or come within
the kernel's height of each other, fuse into one blob.
"""

from __future__ import annotations

import numpy as np

from runtimes.pages._deps import require_cv2
from runtimes.pages.components import InkPixels, Pieces

SMEAR_WIDTH = 2.0  # kernel width, in writing heights: bridges the gaps between words
SMEAR_HEIGHT = 0.25  # kernel height: joins i-dots and accents to their line
MINOR = 0.35  # blobs shorter than this many writing heights are marks, not lines


def assign_lines(pixels: InkPixels, pieces: Pieces, height: float) -> np.ndarray:
    """Line index (top to bottom) of every ink pixel, -1 for none."""
    cv2 = require_cv2()
    none = np.full(pixels.count, -1, np.int32)
    if pieces.count == 0 or height <= 0:
        return none
    assert pixels.rx is not None and pixels.ry is not None, "deskew the pixels first"
    width, rows = pixels.frame
    cols = np.clip(np.rint(pixels.rx).astype(np.int64), 0, width - 1)
    lines_at = np.clip(np.rint(pixels.ry).astype(np.int64), 0, rows - 1)
    ink = np.zeros((rows, width), np.uint8)
    ink[lines_at, cols] = 1
    size = (max(3, int(SMEAR_WIDTH * height)), max(1, int(SMEAR_HEIGHT * height)))
    smeared = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, size))
    count, blobs, stats, centroids = cv2.connectedComponentsWithStats(smeared, connectivity=8)
    major = sorted(
        (i for i in range(1, count) if stats[i, 3] >= MINOR * height), key=lambda i: stats[i, 1]
    )
    if not major:
        return none
    line_of_blob = np.full(count, -1, np.int32)
    line_of_blob[major] = np.arange(len(major), dtype=np.int32)
    centres = centroids[major, 1]
    for blob in range(1, count):  # a stray mark joins the line nearest to it
        if line_of_blob[blob] < 0:
            line_of_blob[blob] = int(np.argmin(np.abs(centres - centroids[blob, 1])))
    lines: np.ndarray = line_of_blob[blobs[lines_at, cols]]
    return lines
