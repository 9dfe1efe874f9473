"""Line detection scores: found line boxes matched one to one against ground-truth boxes.

A found line counts as detected when it overlaps an unmatched true line with IoU >= 0.5
(the usual threshold); matching is the assignment that maximises total IoU, so one wide box
cannot claim two lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = Sequence[float]  # x0, y0, x1, y1
IOU_THRESHOLD = 0.5


def iou_matrix(found: Sequence[Box], truth: Sequence[Box]) -> np.ndarray:
    """(len(found), len(truth)) intersection over union of axis-aligned boxes."""
    if not found or not truth:
        return np.zeros((len(found), len(truth)))
    a = np.asarray(found, np.float64)[:, None, :]
    b = np.asarray(truth, np.float64)[None, :, :]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    overlap = width * height
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return overlap / np.maximum(area_a + area_b - overlap, 1e-9)


@dataclass(frozen=True)
class Detection:
    found: int  # lines the segmenter returned
    truth: int  # lines on the page
    matched: int  # found lines matched to a true line at IoU >= threshold

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        total = self.found + self.truth
        return 2 * self.matched / total if total else 1.0

    def __add__(self, other: Detection) -> Detection:
        return Detection(
            self.found + other.found, self.truth + other.truth, self.matched + other.matched
        )


def match_lines(
    found: Sequence[Box], truth: Sequence[Box], threshold: float = IOU_THRESHOLD
) -> Detection:
    from scipy.optimize import linear_sum_assignment

    ious = iou_matrix(found, truth)
    if ious.size == 0:
        return Detection(len(found), len(truth), 0)
    rows, cols = linear_sum_assignment(ious, maximize=True)
    matched = int((ious[rows, cols] >= threshold).sum())
    return Detection(len(found), len(truth), matched)
