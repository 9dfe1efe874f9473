"""Synthetic handwriting-like text lines, rendered on the fly with nothing to download.

    lines = SyntheticLines(1000, seed=0)
    image, text = lines[7]        # PIL "L" image, dark ink on light paper, 64 px high

Most lines are drawn with the handwriting fonts that ``hwr fonts fetch`` installs (pinned in
``hwr_export/data/fonts/manifest.json``; see ``hwr_export.data.handwriting``); the rest, and all
of them on a machine without those fonts (with a warning, once), with the Hershey stroke fonts
shipped inside the `hershey-fonts` package, drawn as PIL lines with a random hand per line
(slant, pen width, wobbly baseline, spacing, blur, noise). Every random choice comes from a
Generator seeded by (seed, index), so item i is the same whatever order items are read in.
"""

from __future__ import annotations

import functools
import math
import operator
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from HersheyFonts import HersheyFonts
from PIL import Image, ImageDraw, ImageFilter

from hwr_export.data.corpus import SENTENCE_SHARE, EnglishLines
from hwr_export.data.fonts.catalog import installed_fonts, warn_no_fonts_once
from hwr_export.data.handwriting import render_font_line
from runtimes.contract import IAM_CHARSET
from runtimes.errors import HwrError

# Hershey font -> (odds, thinnest pen in px at 64 px): mostly cursive, some plain hand-lettering.
# The double-line fonts (scriptc, timesi) need a wide pen, or their strokes look hollow.
STROKE_FONTS = {
    "cursive": (5, 1.5),
    "scriptc": (1, 2.8),
    "futural": (2, 1.2),
    "rowmans": (1, 1.2),
    "timesi": (1, 2.6),
}
TTF_SHARE = 0.9  # share of lines drawn with a handwriting font, when fonts are installed
SUPERSAMPLE = 2  # draw at 2x and downscale: anti-aliased strokes with fractional pen widths


@dataclass(frozen=True)
class _StrokeFont:
    glyphs: dict[str, tuple[list[np.ndarray], float]]  # char -> (strokes from left side, advance)
    cap: float  # top of capitals and ascenders, font units (y points down)
    x_top: float  # top of the lowercase x
    base: float  # baseline
    bottom: float  # bottom of descenders
    advance: float  # mean lowercase advance, to set a handwriting-like aspect


@functools.cache
def _stroke_fonts() -> dict[str, _StrokeFont]:
    fonts = {}
    for name in STROKE_FONTS:
        hershey = HersheyFonts()
        hershey.load_default_font(name)
        glyphs = {
            char: ([np.array(s, np.float32) - (g.left_offset, 0) for s in g.strokes], g.char_width)
            for char, g in hershey.all_glyphs.items()
        }
        advance = float(np.mean([glyphs[c][1] for c in string.ascii_lowercase]))
        x_top = float(hershey.all_glyphs["x"].draw_box[0][1])
        lines = hershey.render_options
        fonts[name] = _StrokeFont(
            glyphs, lines.cap_line, x_top, lines.base_line, lines.bottom_line, advance
        )
    return fonts


@functools.cache
def find_handwriting_fonts() -> tuple[str, ...]:
    """The handwriting fonts ``hwr fonts fetch`` installed (none: warn once, stroke fonts only)."""
    fonts = tuple(str(p) for p in installed_fonts())
    if not fonts:
        warn_no_fonts_once()
    return fonts


def render_line(text: str, rng: np.random.Generator, height: int = 64) -> Image.Image:
    """Draw one text line in a random hand: mode "L", `height` px high, width follows the text."""
    if height < 8:
        raise HwrError(f"synthetic line height must be at least 8 px, got {height}")
    ttf_fonts = find_handwriting_fonts()
    use_ttf = rng.random() < TTF_SHARE  # drawn always, so the stroke-font lines stay the same
    if use_ttf and ttf_fonts:
        font_path = ttf_fonts[rng.integers(len(ttf_fonts))]
        return render_font_line(text, font_path, rng, height)
    return _ink_on_paper(_stroke_coverage(text, rng, height), rng, height)


def _glyph(font: _StrokeFont, char: str) -> tuple[list[np.ndarray], float]:
    if char in font.glyphs:
        return font.glyphs[char]
    raise HwrError(f"synthetic text: no stroke font can draw the character {char!r}")


def _stroke_coverage(text: str, rng: np.random.Generator, height: int) -> Image.Image:
    """Ink coverage (0 paper .. 255 ink) of the text drawn with a jittered Hershey font."""
    names = list(STROKE_FONTS)
    odds = np.array([odds for odds, _ in STROKE_FONTS.values()], float)
    name = names[rng.choice(len(names), p=odds / odds.sum())]
    font = _stroke_fonts()[name]
    x_height = font.base - font.x_top
    # Hands write narrower letters, larger x-heights and shorter ascenders than these fonts.
    aspect = rng.uniform(0.6, 0.95)  # letter advance / x-height
    x_scale = aspect * x_height / font.advance
    ascender = min(1.0, rng.uniform(0.7, 1.2) * x_height / (font.x_top - font.cap))
    descender = min(1.0, rng.uniform(0.6, 1.1) * x_height / (font.bottom - font.base))
    spacing, word_gap = rng.uniform(-0.03, 0.1) * font.advance, rng.uniform(0.8, 1.6)
    baseline_jitter, size_jitter = rng.uniform(0, 0.08) * x_height, rng.uniform(0, 0.1)
    slant = math.tan(math.radians(rng.uniform(-12, 20)))
    wave = (rng.uniform(0, 0.15) * x_height, rng.uniform(10, 40) * x_height, rng.uniform(0, 6.3))
    # A smooth displacement field: a hand never draws straight lines, and double-line glyphs
    # (scriptc, timesi) keep their two lines together.
    wobble = (rng.uniform(0, 0.08) * x_height, 2 * np.pi / (rng.uniform(0.5, 1.5) * x_height))
    wobble_phase = rng.uniform(0, 6.3, 2)
    angle = math.radians(float(np.clip(rng.normal(0, 0.5), -1.2, 1.2)))
    pen = rng.uniform(0.03, 0.06) * aspect * height  # a narrow hand writes with a thin pen
    pen = max(pen, STROKE_FONTS[name][1] * height / 64)
    n = len(text)
    char_dy, char_size = rng.normal(0, baseline_jitter, n), 1 + rng.uniform(-1, 1, n) * size_jitter
    char_pen, char_gap = rng.uniform(0.85, 1.15, n), rng.normal(0, 0.04 * font.advance, n)

    strokes, pens, cursor = [], [], 0.0
    for i, char in enumerate(text):
        glyph_strokes, advance = _glyph(font, char)
        if char == " ":
            cursor += advance * word_gap + 2 * char_gap[i]
            continue
        for stroke in glyph_strokes:
            x, y = stroke[:, 0], stroke[:, 1]
            y = np.where(y < font.x_top, font.x_top + (y - font.x_top) * ascender, y)
            y = np.where(y > font.base, font.base + (y - font.base) * descender, y)
            y = font.base + (y - font.base) * char_size[i] + char_dy[i]
            strokes.append(np.stack([cursor + x * char_size[i], y], axis=1))
            pens.append(pen * char_pen[i])
        cursor += advance * char_size[i] + spacing + char_gap[i]

    if not strokes:  # only spaces: blank paper about as wide as the text
        return Image.new("L", (max(height // 4, int(cursor * x_scale * height / 40)), height), 0)
    points = np.concatenate(strokes)
    x, y = points[:, 0], points[:, 1]
    x, y = (
        x + wobble[0] * np.sin(wobble[1] * (y + 0.6 * x) + wobble_phase[0]),
        y + wobble[0] * np.sin(wobble[1] * (x - 0.4 * y) + wobble_phase[1]),
    )
    x = x * x_scale
    x = x + slant * (font.base - y)
    y = y + wave[0] * np.sin(2 * np.pi * x / wave[1] + wave[2])
    x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)

    # Fit the ink to the height like a cropped IAM line, but keep room for ascenders and
    # descenders so a line of small letters is not blown up to full height.
    top = min(y.min(), font.x_top - 0.8 * x_height)
    bottom = max(y.max(), font.base + 0.6 * x_height)
    margin_top, margin_bottom = rng.uniform(0.01, 0.06, 2) * height + pen / 2
    scale = (height - margin_top - margin_bottom) / (bottom - top)
    margin_left, margin_right = rng.uniform(0.02, 0.12, 2) * height + pen
    width = math.ceil((x.max() - x.min()) * scale + margin_left + margin_right)
    x = (x - x.min()) * scale + margin_left
    y = (y - top) * scale + margin_top

    canvas = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(canvas)
    xy = np.stack([x, y], axis=1) * SUPERSAMPLE
    ends = np.cumsum([len(s) for s in strokes])[:-1]
    for stroke, stroke_pen in zip(np.split(xy, ends), pens, strict=True):
        pen_px = stroke_pen * SUPERSAMPLE
        if len(stroke) == 1 or np.ptp(stroke, axis=0).max() < pen_px / 2:  # a dot
            (cx, cy), r = stroke.mean(axis=0), pen_px / 2 + 0.5
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        else:
            draw.line(stroke.ravel().tolist(), fill=255, width=round(pen_px), joint="curve")
    return canvas.reduce(SUPERSAMPLE)


def _ink_on_paper(coverage: Image.Image, rng: np.random.Generator, height: int) -> Image.Image:
    """Turn ink coverage into a scanned-looking page: blur, ink and paper tones, noise."""
    blur = rng.uniform(0, 0.8) * height / 64
    if blur > 0.25:
        coverage = coverage.filter(ImageFilter.GaussianBlur(blur))
    ink_share = np.asarray(coverage, np.float32) / 255
    paper = rng.uniform(225, 255) + np.linspace(0, rng.uniform(-8, 8), coverage.width)
    ink = rng.uniform(5, 90)
    noise = rng.normal(0, rng.uniform(0, 5), ink_share.shape)
    pixels = paper + (ink - paper) * ink_share + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


class SyntheticLines(Sequence):
    """`count` synthetic (image, text) lines; item i depends only on (seed, i)."""

    def __init__(
        self,
        count: int,
        seed: int = 0,
        height: int = 64,
        charset: str = IAM_CHARSET,
        min_words: int = 1,
        max_words: int = 8,
        sentence_share: float = SENTENCE_SHARE,
    ):
        if count < 0 or seed < 0:
            raise HwrError(f"synthetic lines: count and seed must be >= 0, got {count}, {seed}")
        if height < 8:
            raise HwrError(f"synthetic line height must be at least 8 px, got {height}")
        self.size, self.seed, self.height = count, seed, height  # not .count: Sequence.count
        self.source = EnglishLines(charset, min_words, max_words, sentence_share)

    def __len__(self) -> int:
        return self.size

    def _rng(self, index: int) -> np.random.Generator:
        index = operator.index(index)
        if not 0 <= index < self.size:
            raise IndexError(f"synthetic line {index} out of range (0..{self.size - 1})")
        return np.random.default_rng([self.seed, index])

    def text(self, index: int) -> str:
        """The text of line `index`, without rendering it."""
        return self.source.line(self._rng(index))

    def image(self, index: int) -> Image.Image:
        return self[index][0]

    def __getitem__(self, index: int) -> tuple[Image.Image, str]:  # type: ignore[override]
        rng = self._rng(index)
        text = self.source.line(rng)
        return render_line(text, rng, self.height), text
