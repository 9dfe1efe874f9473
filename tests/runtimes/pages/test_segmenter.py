"""The classical segmenter on composed synthetic pages: line counts, boxes, hard layouts."""

from __future__ import annotations

import numpy as np
import pytest

from hwr_export.bench.page_metrics import iou_matrix, match_lines
from hwr_export.data.pages import PageStyle
from runtimes.errors import HwrError
from runtimes.pages.segmenter import ClassicalSegmenter, SegmenterConfig

HARD = {
    "touching lines 2 px apart, skewed 5 degrees": PageStyle(
        gap=(2, 2), rotation=5.0, indent=(0, 80), noise=3.0, shading=0.3
    ),
    "30 px lines": PageStyle(gap=(3, 6), rotation=2.0, scale=(0.75, 0.75), noise=2.0),
    "150 px lines": PageStyle(gap=(2, 6), rotation=2.0, scale=(3.75, 3.75), noise=2.0),
    "uneven paper": PageStyle(gap=(4, 10), shading=0.45, noise=5.0),
}


def segment(page, method: str = "profile"):
    return ClassicalSegmenter(SegmenterConfig(method=method)).segment(np.asarray(page.image))


def test_clean_page_lines_and_boxes(clean_page) -> None:
    found = segment(clean_page)
    assert len(found.lines) == len(clean_page.lines)
    assert found.skew == 0.0
    for line, truth in zip(found.lines, clean_page.lines, strict=True):  # in reading order
        assert line.region.box == truth.box  # both: ink 20% darker than the paper
        x0, y0, x1, y1 = line.region.box
        assert line.crop.shape == (y1 - y0, x1 - x0)
        assert y0 < line.region.baseline[0][1] <= y1  # the baseline lies inside the line


@pytest.mark.parametrize("name", list(HARD))
def test_hard_layouts(name: str, compose) -> None:
    for seed in (1, 2):
        page = compose(seed, 5, HARD[name], height=40)
        found = segment(page)
        assert len(found.lines) == len(page.lines), f"{name}, seed {seed}"
        boxes = [line.region.box for line in found.lines]
        detection = match_lines(boxes, [t.box for t in page.lines])
        assert detection.matched == len(page.lines), f"{name}, seed {seed}"
        ious = iou_matrix(boxes, [t.box for t in page.lines])
        assert (ious.argmax(axis=1) == np.arange(len(boxes))).all()  # top to bottom


def test_skew_is_measured(compose) -> None:
    page = compose(3, 5, PageStyle(rotation=4.0, gap=(6, 10), noise=0.0))
    # compose_page draws the angle from its generator: recompute it the same way
    found = segment(page)
    assert 1.0 <= abs(found.skew) <= 5.0
    assert len(found.lines) == 5


def test_blank_pages_have_no_lines() -> None:
    rng = np.random.default_rng(0)
    white = np.full((400, 600), 245, np.uint8)
    shaded = np.clip(
        white - np.linspace(0, 60, 600)[None, :] + rng.normal(0, 4, (400, 600)), 0, 255
    )
    for page in (white, shaded.astype(np.uint8)):
        assert segment_array(page).lines == []


def segment_array(gray: np.ndarray):
    return ClassicalSegmenter().segment(gray)


def test_one_line_is_one_line(compose, clean) -> None:
    page = compose(5, 1, clean)
    assert len(segment(page).lines) == 1


def test_the_smear_method_runs_and_merges_touching_lines(compose) -> None:
    """The alternative kept for the benchmark: fine on spaced lines, fused on touching ones."""
    spaced = compose(7, 4, PageStyle(gap=(30, 30), rotation=0.0, noise=0.0))
    assert len(segment(spaced, "smear").lines) == 4


def test_unknown_method_is_a_one_line_error() -> None:
    with pytest.raises(HwrError, match="unknown segmentation method 'magic'"):
        ClassicalSegmenter(SegmenterConfig(method="magic"))
