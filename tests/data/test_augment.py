"""Training augmentation: same height out, paper stays paper, deterministic for a generator."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hwr_export.data.augment import augment_line, grid_distort


def line_image(width: int = 300, height: int = 64) -> Image.Image:
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for x in range(20, width - 20, 25):  # vertical strokes: a warp bends them
        draw.line((x, 12, x + 6, 52), fill=0, width=3)
    return image


@pytest.mark.parametrize("seed", range(8))
def test_augmented_line_keeps_height_ink_and_paper(seed: int) -> None:
    out = augment_line(line_image(), np.random.default_rng(seed))
    values = np.asarray(out)
    assert out.mode == "L" and out.height == 64
    assert 150 <= out.width <= 450
    assert values.min() < 128 and np.median(values) > 150


def test_augmentation_is_deterministic_for_a_generator() -> None:
    a = augment_line(line_image(), np.random.default_rng([1, 2]))
    b = augment_line(line_image(), np.random.default_rng([1, 2]))
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_grid_distort_bends_strokes_but_keeps_size_and_border() -> None:
    image = line_image()
    warped = grid_distort(image, np.random.default_rng(0), cell=40, amount=4, fill=255)
    before, after = np.asarray(image), np.asarray(warped)
    assert warped.size == image.size
    assert not np.array_equal(before, after)
    assert (after[:, 0] == 255).all() and (after[:, -1] == 255).all()  # no ink enters the edges
    ink_before, ink_after = (before < 128).sum(), (after < 128).sum()
    assert 0.7 < ink_after / ink_before < 1.3  # strokes moved, not erased or smeared away


def test_grid_distort_without_jitter_is_identity() -> None:
    image = line_image()
    same = grid_distort(image, np.random.default_rng(0), cell=40, amount=0, fill=255)
    assert np.abs(np.asarray(same, int) - np.asarray(image, int)).max() <= 1
