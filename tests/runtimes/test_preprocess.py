"""Preprocessing: every Pillow mode, arrays, broken files, extreme widths, batching geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from runtimes.contract import IAM_CHARSET, ModelContract
from runtimes.errors import ImageError, ImageTooLargeError
from runtimes.preprocess import (
    MAX_INPUT_WIDTH,
    WIDTH_BUCKET,
    decode_image,
    load_image,
    make_batch,
    to_model_input,
)

CONTRACT = ModelContract(preset="tiny", input_height=32, charset=IAM_CHARSET, min_width=16)
PAPER = CONTRACT.pad_value  # white after normalization: (1 - 0.5) / 0.5 = 1
INK = (0.0 - CONTRACT.norm_mean) / CONTRACT.norm_std


def inked_line(width: int = 120, height: int = 40) -> Image.Image:
    """White paper with a black bar on the left half: known ink and paper positions."""
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle([0, 0, width // 2 - 1, height - 1], fill=0)
    return image


def assert_ink_left_paper_right(x: np.ndarray) -> None:
    assert x.dtype == np.float32
    assert x.shape[0] == CONTRACT.input_height
    third = x.shape[1] // 3
    np.testing.assert_allclose(x[:, 2:third], INK, atol=0.02)
    np.testing.assert_allclose(x[:, -third:], PAPER, atol=0.02)


def to_rgba_with_transparent_paper(gray: Image.Image) -> Image.Image:
    """Black ink, fully transparent (black) background: must come out on white paper."""
    rgba = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    alpha = Image.eval(gray, lambda v: 255 - v)  # ink opaque, paper transparent
    rgba.putalpha(alpha)
    return rgba


def as_16bit(gray: Image.Image) -> Image.Image:
    image = Image.fromarray(np.asarray(gray).astype(np.uint16) * 257)
    assert image.mode == "I;16"
    return image


MODES = {
    "L": lambda g: g,
    "RGB": lambda g: g.convert("RGB"),
    "RGBA": to_rgba_with_transparent_paper,
    "LA": lambda g: to_rgba_with_transparent_paper(g).convert("LA"),
    "P": lambda g: g.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE),
    "1": lambda g: g.convert("1"),
    "I;16": as_16bit,
    "I": lambda g: as_16bit(g).convert("I"),
    "CMYK": lambda g: g.convert("RGB").convert("CMYK"),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_gives_the_same_normalized_line(mode: str) -> None:
    reference = to_model_input(inked_line(), CONTRACT)
    x = to_model_input(MODES[mode](inked_line()), CONTRACT)
    assert_ink_left_paper_right(x)
    assert x.shape == reference.shape
    np.testing.assert_allclose(x, reference, atol=0.02)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "1"])
def test_every_mode_survives_a_file_round_trip(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"line_{mode.replace(';', '')}.png"
    MODES[mode](inked_line()).save(path)
    assert_ink_left_paper_right(to_model_input(load_image(path), CONTRACT))


def test_sixteen_bit_mid_grey_is_scaled_not_clipped() -> None:
    image = Image.fromarray(np.full((40, 80), 32896, dtype=np.uint16))  # 128 * 257
    x = to_model_input(image, CONTRACT)
    np.testing.assert_allclose(x[:, :40], (128 / 255 - 0.5) / 0.5, atol=1e-6)
    big_endian = np.full((40, 80), 32896, dtype=">u2")
    np.testing.assert_allclose(to_model_input(big_endian, CONTRACT)[:, :40], x[:, :40])


def test_dark_sixteen_bit_image_is_not_mistaken_for_8_bit() -> None:
    image = Image.fromarray(np.full((40, 80), 200, dtype=np.uint16))  # nearly black in 16 bit
    assert image.mode == "I;16"
    np.testing.assert_allclose(to_model_input(image, CONTRACT)[:, :40], INK, atol=0.01)


def test_palette_with_transparency_is_composited_on_white() -> None:
    image = Image.new("P", (60, 40), 0)
    image.putpalette([0, 0, 0] * 256)
    image.info["transparency"] = 0  # every pixel is transparent black
    np.testing.assert_allclose(to_model_input(image, CONTRACT), PAPER)


@pytest.mark.parametrize(
    "array",
    [
        np.asarray(inked_line()),  # uint8 gray
        np.asarray(inked_line()).astype(np.float32) / 255,  # float 0..1
        np.asarray(inked_line()).astype(np.float64),  # float 0..255
        np.asarray(inked_line().convert("RGB")),
        np.asarray(inked_line())[:, :, None],
        np.asarray(inked_line()).astype(np.uint16) * 257,
        np.asarray(inked_line()) > 0,  # bool, True = paper
    ],
    ids=["uint8", "float01", "float255", "rgb", "hw1", "uint16", "bool"],
)
def test_arrays_are_accepted(array: np.ndarray) -> None:
    assert_ink_left_paper_right(to_model_input(array, CONTRACT))


def test_resize_keeps_aspect_ratio_and_normalizes() -> None:
    x = to_model_input(Image.new("L", (200, 64), 255), CONTRACT)
    assert x.shape == (32, 128)  # 100 px of line, padded to the 32 px width bucket
    np.testing.assert_allclose(x, 1.0)  # (255/255 - 0.5) / 0.5


def test_width_is_rounded_up_to_the_width_bucket_with_paper() -> None:
    x = to_model_input(Image.new("L", (101, 32), 0), CONTRACT)
    assert x.shape == (32, 128)
    np.testing.assert_allclose(x[:, :101], INK)
    np.testing.assert_allclose(x[:, 101:], PAPER)


def test_one_pixel_wide_image_is_padded_to_min_width() -> None:
    x = to_model_input(Image.new("L", (1, 40), 0), CONTRACT)
    assert x.shape == (32, max(CONTRACT.min_width, WIDTH_BUCKET))
    np.testing.assert_allclose(x[:, 0], INK)
    np.testing.assert_allclose(x[:, 1:], PAPER)


def test_twenty_thousand_pixel_wide_line_works() -> None:
    x = to_model_input(Image.new("L", (20_000, 64), 255), CONTRACT)
    assert x.shape == (32, 10_016)  # 10,000 px of line in 32 px buckets


def test_absurd_aspect_ratio_is_a_clear_error() -> None:
    with pytest.raises(ImageError, match=r"above the .* px limit; split the line"):
        to_model_input(Image.new("L", (20_000, 1), 255), CONTRACT)


def test_the_width_limit_is_exact() -> None:
    height = CONTRACT.input_height
    assert to_model_input(Image.new("L", (MAX_INPUT_WIDTH, height), 255), CONTRACT).shape[1] >= (
        MAX_INPUT_WIDTH
    )
    with pytest.raises(ImageError, match=f"{MAX_INPUT_WIDTH + 1} px wide"):
        to_model_input(Image.new("L", (MAX_INPUT_WIDTH + 1, height), 255), CONTRACT)


def test_zero_size_inputs_are_image_errors() -> None:
    with pytest.raises(ImageError, match="zero size"):
        to_model_input(np.zeros((0, 10), np.uint8), CONTRACT)
    with pytest.raises(ImageError, match="zero size"):
        to_model_input(Image.new("L", (0, 10)), CONTRACT)
    with pytest.raises(ImageError, match="shape"):
        to_model_input(np.zeros((4, 5, 6, 7), np.uint8), CONTRACT)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"not an image at all", "not a recognised image format")],
)
def test_unreadable_files_name_file_and_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "line.png"
    path.write_bytes(content)
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert str(info.value) == f"{path}: cannot read image ({reason})"


def test_truncated_png_is_an_image_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    inked_line(400, 100).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageError, match=r"cut\.png: cannot read image \("):
        load_image(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="directory"):
        load_image(tmp_path)


def test_image_bytes_decode_like_files_and_the_pixel_limit_reads_only_the_header(
    tmp_path: Path,
) -> None:
    path = tmp_path / "line.png"
    inked_line(400, 100).save(path)
    data = path.read_bytes()
    from_bytes = decode_image(data, "upload.png", max_pixels=40_000)
    assert np.array_equal(np.asarray(from_bytes), np.asarray(load_image(path)))
    with pytest.raises(ImageTooLargeError) as info:
        decode_image(data, "upload.png", max_pixels=39_999)
    assert str(info.value) == (
        "upload.png: image of 400x100 px (40,000 px) is above the 39,999 px limit"
    )
    # No pixel is decoded for the check: a file cut where its pixel data starts is still
    # refused for its size, and only decoding shows that it is broken.
    headers_only = data[: data.index(b"IDAT") + 4]
    with pytest.raises(ImageTooLargeError):
        decode_image(headers_only, "cut.png", max_pixels=10)
    with pytest.raises(ImageError, match=r"^cut\.png: cannot read image \("):
        decode_image(headers_only, "cut.png", max_pixels=None)
    with pytest.raises(ImageError, match=r"^empty\.png: cannot read image \(empty file\)$"):
        decode_image(b"", "empty.png")


def test_make_batch_pads_right_with_paper() -> None:
    narrow = np.full((32, 16), -1.0, np.float32)
    wide = np.full((32, 40), -1.0, np.float32)
    batch = make_batch([narrow, wide], CONTRACT)
    assert batch.shape == (2, 1, 32, 40) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0, 0, :, :16], -1.0)
    np.testing.assert_array_equal(batch[0, 0, :, 16:], PAPER)
    np.testing.assert_array_equal(batch[1, 0], -1.0)


def test_make_batch_refuses_wrong_height() -> None:
    with pytest.raises(ValueError, match="incorrect input height"):
        make_batch([np.zeros((20, 30), np.float32)], CONTRACT)
