"""Text lines drawn with handwriting fonts and the variety real hands and scans have.

    image = render_font_line("A line of text.", font_path, numpy.random.default_rng(0))

Words are drawn one at a time, so each gets its own size, baseline, slant and width; the line
then gets a stroke width, an elastic (grid) distortion, ink and paper tones, blur, noise and
JPEG artefacts, and is cropped and scaled like an IAM line: dark ink on light paper, the ink
filling the height with a small margin, ``height`` px high.
"""

from __future__ import annotations

import functools
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from hwr_export.data.augment import grid_distort

DRAW_SIZE = 64  # font size the words are drawn at, before the line is scaled to its height
PITCH_RANGE = (13.0, 24.0)  # px per character at 64 px height, the range of IAM hands


@functools.lru_cache(maxsize=128)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def render_font_line(
    text: str, font_path: str, rng: np.random.Generator, height: int = 64
) -> Image.Image:
    """One line of ``text`` in the hand of ``font_path``: mode "L", ``height`` px high."""
    coverage = _draw_words(text, font_path, rng)
    coverage = _stroke_width(coverage, rng)
    coverage = _grid_distortion(coverage, rng)
    line = _fit_height(coverage, text, rng, height)
    return _scan(line, rng)


def _draw_words(text: str, font_path: str, rng: np.random.Generator) -> Image.Image:
    """Ink coverage (0 paper .. 255 ink) of the words, each with its own jitter."""
    size = DRAW_SIZE
    words = text.split(" ")
    line_slant = rng.uniform(-0.35, 0.45)
    slant_jitter, size_jitter = rng.uniform(0, 0.12), rng.uniform(0, 0.12)
    baseline_jitter = rng.uniform(0, 0.06) * size
    width_scale = rng.uniform(0.8, 1.2)
    gap = rng.uniform(0.2, 0.5) * size
    # Many hands space their letters more loosely than a font does (and break its joins): then
    # a gap between letters must not read as a word gap.
    tracking = rng.uniform(0.02, 0.14) * size if rng.random() < 0.5 else 0.0
    space = _font(font_path, size).getlength(" ") or 0.3 * size
    canvas_h = 3 * size
    base = 2 * size
    pieces: list[tuple[Image.Image, int]] = []
    for word in words:
        if not word:
            pieces.append((Image.new("L", (round(space * 0.5), canvas_h), 0), 0))
            continue
        word_size = max(8, round(size * (1 + rng.uniform(-1, 1) * size_jitter)))
        font = _font(font_path, word_size)
        w = math.ceil(font.getlength(word) + tracking * len(word)) + word_size
        image = Image.new("L", (w, canvas_h), 0)
        dy = rng.normal(0, baseline_jitter) if baseline_jitter > 0 else 0.0
        _draw_word(ImageDraw.Draw(image), word, font, (word_size // 2, base + dy), tracking)
        slant = line_slant + rng.normal(0, slant_jitter)
        stretch = width_scale * rng.uniform(0.92, 1.08)
        image = _shear_stretch(image, slant, stretch, base)
        box = image.getbbox()
        if box is None:  # a font that draws nothing for this word: keep its width as space
            pieces.append((Image.new("L", (round(space), canvas_h), 0), 0))
            continue
        pieces.append((image.crop((box[0], 0, box[2], canvas_h)), 0))
    total = sum(p.width for p, _ in pieces) + int(gap * (len(pieces) + 1))
    line = Image.new("L", (max(total, 1), canvas_h), 0)
    x = int(gap * rng.uniform(0.2, 1.0))
    for piece, _ in pieces:
        line.paste(piece, (x, 0), piece)
        x += piece.width + int(gap * rng.uniform(0.6, 1.5))
    return line


def _draw_word(
    draw: ImageDraw.ImageDraw,
    word: str,
    font: ImageFont.FreeTypeFont,
    origin: tuple[float, float],
    tracking: float,
) -> None:
    """The word as the font shapes it, or letter by letter with ``tracking`` px between."""
    if tracking <= 0:
        draw.text(origin, word, fill=255, font=font, anchor="ls")
        return
    x, y = origin
    for char in word:
        draw.text((x, y), char, fill=255, font=font, anchor="ls")
        x += font.getlength(char) + tracking


def _shear_stretch(image: Image.Image, slant: float, stretch: float, base: float) -> Image.Image:
    """Slant around the baseline and stretch horizontally, growing the canvas to keep all ink."""
    w, h = image.size
    # Output (x, y) samples input (x / stretch + slant * (y - base) - left, y); ``left`` keeps the
    # most left-leaning part of the ink (below the baseline, or above it for a negative slant)
    # inside the canvas.
    left = slant * (h - base) if slant > 0 else -slant * base
    new_w = math.ceil(stretch * (w + abs(slant) * h)) + 2
    coeffs = (1 / stretch, slant, -slant * base - left, 0, 1, 0)
    return image.transform((new_w, h), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)


def _stroke_width(coverage: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Thicker or thinner pens: dilate or erode the ink."""
    roll = rng.random()
    if roll < 0.25:
        return coverage.filter(ImageFilter.MaxFilter(3 if rng.random() < 0.7 else 5))
    if roll < 0.4:
        thinner = coverage.filter(ImageFilter.MinFilter(3))
        ink_before = np.asarray(coverage, np.float32).sum()
        # A hairline hand would vanish: thin only strokes that keep most of their ink.
        if np.asarray(thinner, np.float32).sum() > 0.6 * ink_before:
            return thinner
    return coverage


def _grid_distortion(coverage: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Elastic warp of the whole line (no ink outside the canvas: fill with 0 coverage)."""
    if rng.random() < 0.2:
        return coverage
    cell = rng.uniform(0.6, 1.4) * DRAW_SIZE
    return grid_distort(coverage, rng, cell, rng.uniform(0.03, 0.12) * DRAW_SIZE, fill=0)


def _fit_height(
    coverage: Image.Image, text: str, rng: np.random.Generator, height: int
) -> Image.Image:
    """Crop to the ink like an IAM line and scale to ``height``, at an IAM-like letter pitch."""
    box = coverage.getbbox()
    if box is None:
        return Image.new("L", (max(height // 2, 4 * len(text)), height), 0)
    line = coverage.crop(box)
    margin_top, margin_bottom = rng.uniform(0.0, 0.08, 2) * height
    inner = max(8, round(height - margin_top - margin_bottom))
    natural = line.width * inner / line.height
    pitch = rng.uniform(*PITCH_RANGE) * height / 64
    width = float(np.clip(pitch * max(len(text), 1), 0.65 * natural, 1.35 * natural))
    line = line.resize((max(1, round(width)), inner), Image.Resampling.BOX)
    margin_left, margin_right = (rng.uniform(0.0, 0.25, 2) * height).astype(int)
    out = Image.new("L", (line.width + margin_left + margin_right, height), 0)
    out.paste(line, (int(margin_left), int(round(margin_top))))
    return out


def _scan(coverage: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Ink and paper tones, uneven paper, blur, noise and JPEG artefacts."""
    if rng.random() < 0.3:
        coverage = coverage.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    ink_share = np.asarray(coverage, np.float32) / 255
    h, w = ink_share.shape
    paper = rng.uniform(235, 265)  # IAM paper is mostly pure white: values over 255 clip
    shade = np.linspace(0, rng.uniform(-10, 10), w)[None, :]
    shade = shade + np.linspace(0, rng.uniform(-8, 8), h)[:, None]
    ink = rng.uniform(0, 110)
    pixels = (paper + shade) + (ink - paper - shade) * ink_share
    if rng.random() < 0.6:
        pixels = pixels + rng.normal(0, rng.uniform(1, 8), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(25, 90)))
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
    return image
