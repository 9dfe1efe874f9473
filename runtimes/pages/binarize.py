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
    paper: np.ndarray  # uint8 local paper tone, same shape as the page
    ink: np.ndarray  # uint8 0/1, 1 where a pixel is darker than its paper by ``contrast``


def _coarse_paper(gray: np.ndarray) -> np.ndarray:
    """The paper tone at 1/PAPER_GRID scale."""
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
    return np.asarray(cv2.medianBlur(small, 5))


def ink_map(gray: np.ndarray, contrast: float = 0.2) -> InkMap:
    """Pixels at least ``contrast`` (share of the paper tone) darker than their paper are ink.

    Paper and threshold are computed coarse and stretched to the page in 8 bits: two cheap
    resizes and one comparison per pixel, whatever the page size.
    """
    cv2 = require_cv2()
    height, width = gray.shape
    coarse = _coarse_paper(gray)
    # gray < paper * (1 - contrast) for whole-number gray levels: compare with the ceiling
    limit = np.clip(np.ceil(coarse * (1.0 - contrast)), 0, 255).astype(np.uint8)
    paper = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    limit = cv2.resize(limit, (width, height), interpolation=cv2.INTER_LINEAR)
    return InkMap(paper=paper, ink=(gray < limit).view(np.uint8))
