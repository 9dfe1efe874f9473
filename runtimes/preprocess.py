"""Images to model input: read any Pillow image, grayscale, resize to the model height, normalize.

Numpy and Pillow only, shared by every runtime, so that a line is fed to PyTorch and ONNX Runtime
exactly the same way. The steps match training (the line batches of ``hwr train``): 8-bit grayscale,
bilinear resize to ``contract.input_height`` keeping the aspect ratio (``runtimes.resize``, defined
exactly so that the browser runtime, runtimes/web/hwr.js, computes the same pixels), then
``(x/255 - mean)/std`` computed in float64 and rounded once to float32.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from runtimes.contract import ModelContract
from runtimes.errors import ImageError, ImageTooLargeError, first_line
from runtimes.resize import resize_gray

# Widest line we accept after resizing to model height. 20,000 px lines fit; a 1 px tall strip
# of 20,000 px would become millions of px wide, which no recurrent model reads sensibly.
MAX_INPUT_WIDTH = 65_536
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
WIDTH_BUCKET = 32  # px; lines are padded to a multiple of this (see to_model_input)

ImageLike = Image.Image | np.ndarray


def load_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image (lazy decoding would hide corrupt data until later),
    turned upright by its EXIF orientation as every viewer shows it."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ImageError(f"{path}: cannot read image (it is a directory)")
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: cannot read image (empty file)")
    except FileNotFoundError:
        raise ImageError(f"{path}: cannot read image (file not found)") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read image ({exc.strerror or exc})") from None
    return _decode(path, str(path), max_pixels=None)


def decode_image(
    data: bytes, name: str = "image bytes", max_pixels: int | None = None
) -> Image.Image:
    """Decode image bytes (an upload); ``max_pixels`` is checked on the header, before decoding,
    so an oversized image is refused without its pixels ever being allocated."""
    if not data:
        raise ImageError(f"{name}: cannot read image (empty file)")
    return _decode(io.BytesIO(data), name, max_pixels)


def _decode(source: Path | BinaryIO, name: str, max_pixels: int | None) -> Image.Image:
    try:
        with Image.open(source) as image:
            pixels = image.width * image.height
            if max_pixels is not None and pixels > max_pixels:
                raise ImageTooLargeError(
                    f"{name}: image of {image.width}x{image.height} px ({pixels:,} px) is above "
                    f"the {max_pixels:,} px limit"
                )
            image.load()
            upright = ImageOps.exif_transpose(image)  # as every viewer shows it
            return upright if upright is not None else image
    except FileNotFoundError:
        raise ImageError(f"{name}: cannot read image (file not found)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: cannot read image (not a recognised image format)") from None
    except Image.DecompressionBombError as exc:  # Pillow's own limit, when above ours
        raise ImageTooLargeError(f"{name}: image too large ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: cannot read image ({first_line(exc)})") from None


def to_grayscale(image: ImageLike) -> Image.Image:
    """8-bit grayscale ("L"), with transparency composited onto white paper."""
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    if image.width == 0 or image.height == 0:
        raise ImageError(f"cannot read image (zero size {image.width}x{image.height})")
    mode = image.mode
    if mode.startswith("I;16"):
        return Image.fromarray(_wide_to_uint8(np.asarray(image), sixteen_bit=True))
    if mode in ("I", "F"):  # "I" holds 8- or 16-bit data: judged by its values
        return Image.fromarray(_wide_to_uint8(np.asarray(image), None if mode == "I" else False))
    if mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image)
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, 1 ...
    return image.convert("L")


def _wide_to_uint8(pixels: np.ndarray, sixteen_bit: bool | None) -> np.ndarray:
    """Wide integer or float pixels to 8 bit. ``sixteen_bit``: True scales 0..65535 to 0..255,
    False clips to 0..255, None scales only if some value exceeds 255."""
    values = np.nan_to_num(pixels.astype(np.float64))
    if sixteen_bit is None:
        sixteen_bit = bool(values.size) and values.max() > 255
    if sixteen_bit:
        values = values / 257.0  # 65535 -> 255
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _array_to_image(array: np.ndarray) -> Image.Image:
    """Arrays: (H, W) gray or (H, W, 1|3|4); uint8, uint16 (16-bit), bool, float (0..1 or 0..255)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"cannot read image array of shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"cannot read image (zero size array {array.shape})")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        # Floats in 0..1 are the common convention; anything larger is taken as 0..255.
        scale = 255.0 if np.nanmax(array) <= 1.0 else 1.0
        array = _wide_to_uint8(array * scale, sixteen_bit=False)
    elif array.dtype != np.uint8:
        is_uint16 = array.dtype.kind == "u" and array.dtype.itemsize == 2  # either byte order
        array = _wide_to_uint8(array, sixteen_bit=True if is_uint16 else None)
    return Image.fromarray(np.ascontiguousarray(array))  # L, RGB or RGBA from the shape


def resized_width(width: int, height: int, target_height: int) -> int:
    """The width keeping the aspect ratio; ``round`` ties to even (as hwr.js does)."""
    return max(1, round(width * target_height / height))


def to_model_height(image: ImageLike, height: int) -> Image.Image:
    """8-bit grayscale at ``height`` px, aspect ratio kept: the pixels the model sees, for
    inference and training alike."""
    gray = to_grayscale(image)
    width = resized_width(gray.width, gray.height, height)
    if width > MAX_INPUT_WIDTH:
        raise ImageError(
            f"cannot read image ({gray.width}x{gray.height} is {width} px wide at model height "
            f"{height}, above the {MAX_INPUT_WIDTH} px limit; split the line)"
        )
    if gray.size != (width, height):
        gray = Image.fromarray(resize_gray(np.asarray(gray, dtype=np.uint8), width, height))
    return gray


def normalization_table(contract: ModelContract) -> np.ndarray:
    """float32 model input of each grey level 0..255: ``(v / 255 - mean) / std`` in float64,
    rounded once to float32 (one definition, which hwr.js computes the same way)."""
    levels = np.arange(256, dtype=np.float64)
    return ((levels / 255.0 - contract.norm_mean) / contract.norm_std).astype(np.float32)


def to_model_input(image: ImageLike, contract: ModelContract) -> np.ndarray:
    """One line as normalized float32 (input_height, W).

    W keeps the aspect ratio, is at least ``contract.min_width`` and is rounded up with white
    paper to a multiple of ``WIDTH_BUCKET`` (itself a multiple of ``contract.width_stride``).
    A line's input thus depends on the line alone: batches hold only lines of equal padded
    width, so a line decodes exactly the same alone or in a batch (a bidirectional LSTM would
    otherwise read the batch's extra padding and change the last characters of ~9% of lines).
    """
    gray = to_model_height(image, contract.input_height)
    height, width = contract.input_height, gray.width
    pixels = np.asarray(gray, dtype=np.uint8)
    bucket = math.lcm(WIDTH_BUCKET, max(1, contract.width_stride))
    padded = max(contract.min_width, -(-width // bucket) * bucket)
    out = np.full((height, padded), contract.pad_value, dtype=np.float32)
    out[:, :width] = normalization_table(contract)[pixels]
    return out


def make_batch(arrays: Sequence[np.ndarray], contract: ModelContract) -> np.ndarray:
    """Stack (H, W_i) inputs into (B, 1, H, W_max), padding on the right with paper."""
    if not arrays:
        raise ValueError("make_batch needs at least one image")
    width = max(max(a.shape[1] for a in arrays), contract.min_width)
    batch = np.full((len(arrays), 1, contract.input_height, width), contract.pad_value, np.float32)
    for i, array in enumerate(arrays):
        if array.shape[0] != contract.input_height:
            raise ValueError(
                f"incorrect input height {array.shape[0]}, expected {contract.input_height}"
            )
        batch[i, 0, :, : array.shape[1]] = array
    return batch
