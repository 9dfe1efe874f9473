"""The picture a person checks first: the page with each line outlined and numbered in
reading order (`hwr transcribe --pages --draw DIR`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from runtimes.pages.layout import LineRegion

COLOURS = ((220, 40, 40), (30, 110, 220), (20, 150, 60), (200, 110, 0))  # cycled line to line


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 scales its bundled font
    except TypeError:
        return ImageFont.load_default()


def draw_lines(page: Image.Image | np.ndarray, regions: Sequence[LineRegion]) -> Image.Image:
    """An RGB copy of ``page`` with every region's outline, baseline and number drawn on it."""
    image = Image.fromarray(page) if isinstance(page, np.ndarray) else page
    canvas = image.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    heights = [r.box[3] - r.box[1] for r in regions]
    size = max(12, int(0.45 * float(np.median(heights)))) if heights else 12
    width = max(2, size // 8)
    font = _font(size)
    for number, region in enumerate(regions, start=1):
        colour = COLOURS[(number - 1) % len(COLOURS)]
        draw.polygon(list(region.polygon), outline=colour, width=width)
        if len(region.baseline) >= 2:
            draw.line(list(region.baseline), fill=colour, width=max(1, width // 2))
        x, y = region.polygon[0]
        label = str(number)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        box = (
            max(0, x - (right - left) - 3 * width),
            y,
            max(0, x - width),
            y + bottom - top + 2 * width,
        )
        draw.rectangle(box, fill=colour)
        draw.text((box[0] + width, box[1] + width - top), label, fill=(255, 255, 255), font=font)
    return canvas
