"""From ink assigned to lines to what the recognizer reads: one tight crop per line, in the
deskewed frame, with every other line's ink painted over with paper; and each line's region
mapped back onto the page.

Crops are tight around the line's ink because the lines the recognizer learned from (IAM) are
cut that way; it then scales each crop to its input height itself.
"""

from __future__ import annotations

import math

import numpy as np

from runtimes.pages._deps import require_cv2
from runtimes.pages.components import InkPixels
from runtimes.pages.deskew import map_points
from runtimes.pages.layout import FoundLine, LineRegion

BASELINE_LEVEL = 0.35  # the baseline is the lowest row with this share of the line's peak ink
HALO_PX = 2  # other lines' ink is painted over this far beyond its edge (anti-aliasing)


def _line_boxes(pixels: InkPixels, lines: np.ndarray, count: int) -> np.ndarray:
    """(count, 4) x0, y0, x1, y1 (exclusive) of each line's ink in the deskewed frame."""
    assert pixels.rx is not None and pixels.ry is not None, "deskew the pixels first"
    found = lines >= 0
    order = np.argsort(lines[found], kind="stable")
    ids = lines[found][order]
    rx, ry = pixels.rx[found][order], pixels.ry[found][order]
    starts = np.searchsorted(ids, np.arange(count))
    boxes = np.zeros((count, 4), np.int64)
    present = np.bincount(ids, minlength=count) > 0
    starts = starts[present]
    boxes[present, 0] = np.floor(np.minimum.reduceat(rx, starts))
    boxes[present, 1] = np.floor(np.minimum.reduceat(ry, starts))
    boxes[present, 2] = np.floor(np.maximum.reduceat(rx, starts)) + 1
    boxes[present, 3] = np.floor(np.maximum.reduceat(ry, starts)) + 1
    return boxes


def _baseline_row(own: np.ndarray) -> int:
    rows = own.sum(axis=1)
    strong = np.flatnonzero(rows >= BASELINE_LEVEL * rows.max())
    return int(strong[-1]) + 1 if strong.size else own.shape[0]


def _region(
    box: np.ndarray, baseline: int, to_page: np.ndarray, page_size: tuple[int, int]
) -> LineRegion:
    x0, y0, x1, y1 = (float(v) for v in box)
    corners = map_points(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), to_page)
    ends = map_points(np.array([[x0, y0 + baseline], [x1, y0 + baseline]]), to_page)
    width, height = page_size
    bounds = (
        max(0, math.floor(corners[:, 0].min())),
        max(0, math.floor(corners[:, 1].min())),
        min(width, math.ceil(corners[:, 0].max())),
        min(height, math.ceil(corners[:, 1].max())),
    )
    polygon = tuple((int(round(x)), int(round(y))) for x, y in corners)
    return LineRegion(bounds, polygon, tuple((int(round(x)), int(round(y))) for x, y in ends))


def cut_lines(
    gray: np.ndarray,
    paper: np.ndarray,
    pixels: InkPixels,
    lines: np.ndarray,
    deskew: np.ndarray,
) -> list[FoundLine]:
    """One FoundLine per line index in ``lines`` (one per ink pixel, -1 for none), each crop
    rotated out of the page by ``deskew`` on its own, so no whole-page image is rotated."""
    cv2 = require_cv2()
    count = int(lines.max()) + 1 if lines.size else 0
    if count <= 0:
        return []
    owner = np.zeros(gray.shape, np.uint16 if count < 65535 else np.int32)
    owner[pixels.ys, pixels.xs] = lines + 1  # 0: paper, i + 1: ink of line i
    halo = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HALO_PX + 1, 2 * HALO_PX + 1))
    to_page = cv2.invertAffineTransform(deskew)
    page_size = (gray.shape[1], gray.shape[0])
    found = []
    for index, box in enumerate(_line_boxes(pixels, lines, count)):
        x0, y0, x1, y1 = (int(v) for v in box)
        if x1 <= x0 or y1 <= y0:
            continue  # an index with no ink left
        matrix = deskew.copy()
        matrix[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)
        crop = cv2.warpAffine(
            gray, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        ids = cv2.warpAffine(
            owner, matrix, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
        )
        own = ids == index + 1
        others = cv2.dilate(((ids > 0) & ~own).astype(np.uint8), halo).astype(bool) & ~own
        if others.any():
            tone = cv2.warpAffine(
                paper, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            crop[others] = np.clip(tone[others], 0, 255).astype(np.uint8)
        region = _region(box, _baseline_row(own), to_page, page_size)
        found.append(FoundLine(region=region, crop=crop))
    return found
