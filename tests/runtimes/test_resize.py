"""runtimes.resize: the exactly defined line resize shared with hwr.js."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from runtimes.resize import PRECISION_BITS, resize_gray, resize_weights


def test_weights_of_each_output_pixel_sum_to_one_in_fixed_point():
    for in_size, out_size in [(10, 3), (3, 10), (777, 64), (64, 64), (1, 5), (5, 1)]:
        index, fixed = resize_weights(in_size, out_size)
        assert index.shape == fixed.shape and index.shape[0] == out_size
        assert index.min() >= 0 and index.max() < in_size
        total = fixed.sum(axis=1)
        assert np.all(np.abs(total - (1 << PRECISION_BITS)) <= index.shape[1])


def test_halving_averages_pixel_pairs_with_tent_weights():
    row = np.array([[0, 100, 200, 40]], dtype=np.uint8)
    # Output pixel 0 has centre 1.0: inputs 0, 1 weigh 0.75 each and input 2 weighs 0.25 ->
    # (0 * .75 + 100 * .75 + 200 * .25) / 1.75 = 71.43 -> 71; output pixel 1 (centre 3.0):
    # (100 * .25 + 200 * .75 + 40 * .75) / 1.75 = 117.14 -> 117.
    out = resize_gray(row, 2, 1)
    assert out.tolist() == [[71, 117]]


@pytest.mark.parametrize("axis", ["width", "height"])
def test_a_single_axis_matches_pillow_bilinear_exactly(axis):
    rng = np.random.default_rng(3)
    for _ in range(40):
        h, w = int(rng.integers(1, 120)), int(rng.integers(1, 600))
        pixels = rng.integers(0, 256, (h, w), dtype=np.uint8)
        size = (int(rng.integers(1, 900)), h) if axis == "width" else (w, int(rng.integers(1, 200)))
        expected = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))
        assert np.array_equal(resize_gray(pixels, *size), expected)


def test_same_size_is_the_identity_and_bad_arguments_are_refused():
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(resize_gray(pixels, 4, 3), pixels)
    with pytest.raises(ValueError, match="uint8"):
        resize_gray(pixels.astype(np.float32), 4, 3)
    with pytest.raises(ValueError, match="cannot resize"):
        resize_gray(pixels, 0, 3)
