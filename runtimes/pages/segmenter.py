"""The classical line segmenter: ink map, specks out, skew found and undone, lines found, crops cut.

    segmenter = ClassicalSegmenter()                   # method "profile" (the default) or "smear"
    found = segmenter.segment(gray)                    # gray: (H, W) uint8 page
    [line.region.box for line in found.lines]          # page pixels, in reading order

No training data, no model: OpenCV for the pixel work, SciPy for peak finding. Every length
is measured in writing heights (the typical height of a piece of ink on this page), so lines
from 30 to 150 px high are read with the same settings. ``benchmarks/page_segmenters.py``
compares the methods on composed pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from runtimes.errors import HwrError
from runtimes.pages import profile_lines, smear_lines
from runtimes.pages.binarize import ink_map
from runtimes.pages.components import find_components, keep_writing, kept_pixels
from runtimes.pages.crops import cut_lines
from runtimes.pages.deskew import deskew_matrix, estimate_skew
from runtimes.pages.layout import Segmentation

METHODS = {"profile": profile_lines.assign_lines, "smear": smear_lines.assign_lines}
MIN_SKEW = 0.1  # degrees; below this the page is taken as straight (3 px over 2000)
MIN_WRITING_PX = 4  # ink pieces smaller than this are not writing


@dataclass(frozen=True)
class SegmenterConfig:
    method: str = "profile"  # "profile": projection profile, "smear": smeared blobs
    contrast: float = 0.2  # ink is at least this share darker than the paper around it
    max_skew: float = 6.0  # degrees searched either way


class Segmenter(Protocol):
    def segment(self, gray: np.ndarray) -> Segmentation:
        """(H, W) uint8 page -> its lines in reading order, in the page's own pixels."""
        ...


class ClassicalSegmenter:
    def __init__(self, config: SegmenterConfig | None = None) -> None:
        self.config = config or SegmenterConfig()
        if self.config.method not in METHODS:
            raise HwrError(
                f"unknown segmentation method {self.config.method!r}; "
                f"choose one of {', '.join(METHODS)}"
            )

    def segment(self, gray: np.ndarray) -> Segmentation:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError(f"expected a (H, W) uint8 page, got {gray.shape} {gray.dtype}")
        height, width = gray.shape
        found = ink_map(gray, self.config.contrast)
        labels, pieces = find_components(found.ink)
        keep, writing = keep_writing(pieces)
        if writing < MIN_WRITING_PX or not keep.any():
            return Segmentation(width, height, 0.0, [])
        pixels, pieces = kept_pixels(labels, pieces, keep)
        del labels  # the largest array of the page: done with it

        skew = estimate_skew(pixels.xs, pixels.ys, self.config.max_skew, bin_px=writing / 6)
        skew = skew if abs(skew) >= MIN_SKEW else 0.0
        matrix, frame = deskew_matrix(skew, (width, height))
        pixels = pixels.deskewed(matrix, frame)
        lines = METHODS[self.config.method](pixels, pieces, writing)
        found_lines = cut_lines(gray, found.paper, pixels, lines, matrix)
        return Segmentation(width, height, skew, found_lines)
