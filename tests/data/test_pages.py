"""The page composer: ground truth boxes on the page, IAM lines grouped by form in order."""

from __future__ import annotations

import numpy as np
from PIL import Image

from hwr_export.data.pages import PageStyle, compose_page, line_groups
from hwr_export.data.sources import LineSample


def _line(width: int, text: str) -> tuple[Image.Image, str]:
    image = Image.new("L", (width, 30), 255)
    image.paste(0, (5, 8, width - 5, 22))  # a black bar: its ink box is known
    return image, text


def test_boxes_follow_the_ink_even_when_rotated() -> None:
    lines = [_line(200, "one"), _line(120, "two")]
    flat = compose_page(
        lines,
        np.random.default_rng(0),
        PageStyle(rotation=0.0, noise=0.0, shading=0.0, indent_share=0.0, scale=(1.0, 1.0)),
    )
    assert flat.text == "one\ntwo"
    for truth in flat.lines:
        x0, y0, x1, y1 = truth.box
        ink = np.asarray(flat.image)[y0:y1, x0:x1]
        assert ink.max() < 100  # the bar fills its box
    tilted = compose_page(lines, np.random.default_rng(0), PageStyle(rotation=4.0, noise=0.0))
    pixels = np.asarray(tilted.image)
    for truth in tilted.lines:
        x0, y0, x1, y1 = truth.box
        assert pixels[y0:y1, x0:x1].min() < 100
        assert (x1 - x0) > 0.9 * (200 if truth.text == "one" else 120)


def _sample(name: str) -> LineSample:
    return LineSample(name, name, lambda: Image.new("L", (10, 10), 255))


def test_iam_lines_group_by_form_in_line_order() -> None:
    names = ["d/a01-000u-01.png", "d/a01-000u-00.png", "d/b02-113-00.png", "d/a01-000u-02.png"]
    groups = line_groups([_sample(n) for n in names])
    assert [[s.name for s in g] for g in groups] == [
        ["d/a01-000u-00.png", "d/a01-000u-01.png", "d/a01-000u-02.png"],
        ["d/b02-113-00.png"],
    ]


def test_other_lines_go_in_chunks() -> None:
    groups = line_groups(
        [_sample(f"synthetic-validation-{i}") for i in range(10)], lines_per_page=4
    )
    assert [len(g) for g in groups] == [4, 4, 2]
