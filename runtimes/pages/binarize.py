"""Ink or paper, pixel by pixel, on uneven paper: divide by the local paper tone, then threshold.

The paper tone is estimated on a coarse grid (a grey closing removes the ink, a median
removes what is left of it), so shading, stains and scanner gradients cancel out and one
contrast threshold fits the whole page. A blank page thus yields no ink, not noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtimes.pages._deps import require_cv2

PAPER_GRID = 8  # the paper tone is estimated at 1/8 scale
PAPER_WINDOW = 7  # px at that scale (56 px on the page): wider than any pen stroke


@dataclass(frozen=True)
class InkMap:
    paper: np.ndarray  # float32 local paper tone, same shape as the page
    ink: np.ndarray  # uint8 0/1, 1 where a pixel is darker than its paper by ``contrast``


def paper_tone(gray: np.ndarray) -> np.ndarray:
    """The local brightness of the paper under every pixel (float32, the page's shape)."""
    cv2 = require_cv2()
    height, width = gray.shape
    small = cv2.resize(
        gray,
        (max(1, width // PAPER_GRID), max(1, height // PAPER_GRID)),
        interpolation=cv2.INTER_AREA,
    )
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (PAPER_WINDOW, PAPER_WINDOW))
    # A grey closing (brightest nearby, then darkest of those) removes ink narrower than the
    # window but keeps the steps of the paper itself (a page edge, a fold) where they are.
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    small = cv2.medianBlur(small, 5)
    paper = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.maximum(paper.astype(np.float32), 1.0)


def ink_map(gray: np.ndarray, contrast: float = 0.3) -> InkMap:
    """Pixels at least ``contrast`` (share of the paper tone) darker than their paper are ink."""
    paper = paper_tone(gray)
    ink = (gray < paper * (1.0 - contrast)).astype(np.uint8)
    return InkMap(paper=paper, ink=ink)
