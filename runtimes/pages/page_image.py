"""A page file (or image object) as an 8-bit grayscale array, refusing pages too large to hold.

The size is checked from the file header, before a pixel is decoded, so a 20,000 x 20,000 scan
costs a few bytes of memory and a one-line error instead of an out-of-memory kill.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from runtimes.errors import ImageError
from runtimes.preprocess import ImageLike, load_image, to_grayscale

# 60 megapixels: an A3 page scanned at 600 dpi (7016 x 9921 = 70 MP) is over; at 400 dpi it fits.
MAX_PAGE_PIXELS = 60_000_000


class PageTooLargeError(ImageError):
    """A page with more pixels than ``MAX_PAGE_PIXELS``."""


def _too_large(name: str, width: int, height: int, limit: int) -> PageTooLargeError:
    return PageTooLargeError(
        f"{name}: page is {width}x{height} px ({width * height / 1e6:.0f} MP), above the "
        f"{limit / 1e6:.0f} MP limit; downscale it (300 dpi is plenty for handwriting)"
    )


def check_page_size(name: str, width: int, height: int, limit: int = MAX_PAGE_PIXELS) -> None:
    if width * height > limit:
        raise _too_large(name, width, height, limit)


def load_page(item: ImageLike | str | Path, limit: int = MAX_PAGE_PIXELS) -> np.ndarray:
    """(H, W) uint8 grayscale; transparency on white, 16-bit and palettes as for lines."""
    if isinstance(item, (str, Path)):
        path = Path(item)
        _check_header(path, limit)
        image: ImageLike = load_image(path)
    else:
        image = item
    if isinstance(image, np.ndarray):
        check_page_size("page", image.shape[1], image.shape[0], limit)
    else:
        check_page_size("page", image.width, image.height, limit)
    return np.asarray(to_grayscale(image), dtype=np.uint8)


def _check_header(path: Path, limit: int) -> None:
    """Read only the header: Pillow decodes pixels on ``load``, not on ``open``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # above Pillow's own limit, which is above ours
        raise PageTooLargeError(
            f"{path}: page is above the {limit / 1e6:.0f} MP limit; downscale it "
            "(300 dpi is plenty for handwriting)"
        ) from None
    except Exception:  # unreadable: load_image gives the one-line reason
        return
    check_page_size(str(path), width, height, limit)
