"""Pages with ground truth, composed from line images: for page reading tests and benchmarks.

    page = compose_page([(image, text), ...], np.random.default_rng(0), PageStyle())
    page.image            # mode "L" page, lines stacked top to bottom in the given order
    page.lines[0].box     # tight ink box of the first line, in page pixels (x0, y0, x1, y1)

Lines keep their own pixels: each is scaled, placed with a random indent and gap, and
multiplied onto the paper (ink darkens, so touching lines overlap as ink would), then the
whole page is rotated, shaded and noised. Any line dataset works (``pages_from_lines``): IAM
lines are grouped by form (``c04-110-00`` is line 0 of form ``c04-110``), others in chunks.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hwr_export.data.sources import LineSample
from runtimes.errors import HwrError
from runtimes.preprocess import to_grayscale

INK_LEVEL = 0.8  # a pixel is ink (for the ground-truth box) 20% darker than its line's paper
LINES_PER_PAGE = 8  # lines of a composed page when the data has no forms
FORM_LINE = re.compile(r"^(?P<form>[a-z]\d{2}-\d{3}[a-z]?)-(?P<line>\d{2})$")  # IAM line ids


@dataclass(frozen=True)
class PageStyle:
    """Random ranges a page is drawn from; every page draws its own values."""

    margin: tuple[int, int] = (30, 120)  # px around the text block, each side
    gap: tuple[int, int] = (2, 30)  # px between one line's box and the next (before scaling)
    indent: tuple[int, int] = (0, 150)  # px extra left indent ...
    indent_share: float = 0.3  # ... given to this share of lines
    rotation: float = 2.5  # degrees, page drawn from [-rotation, rotation]
    scale: tuple[float, float] = (1.0, 2.0)  # line scale, one per page
    noise: float = 3.0  # max std of Gaussian pixel noise
    shading: float = 0.15  # max depth of uneven paper (share of the paper tone)
    paper: tuple[int, int] = (235, 252)  # paper tone


@dataclass(frozen=True)
class TruthLine:
    text: str
    box: tuple[int, int, int, int]  # tight ink box in page pixels, (x0, y0, x1, y1) exclusive
    polygon: tuple[tuple[int, int], ...]  # the placed line image's four corners on the page


@dataclass
class ComposedPage:
    image: Image.Image
    lines: list[TruthLine] = field(default_factory=list)
    name: str = "page"
    line_images: list[Image.Image] = field(default_factory=list)  # the lines as given, unscaled

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _darkness(image: Image.Image, scale: float) -> np.ndarray:
    """A line as transmittance in 0..1 (1 = its own paper), scaled by ``scale``."""
    gray = to_grayscale(image)
    if scale != 1.0:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(gray, np.float32)
    paper = max(float(np.percentile(pixels, 95)), 1.0)
    return np.clip(pixels / paper, 0.0, 1.0)


def _rotation(angle: float, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The 2x3 matrix taking page points to the points of the page rotated by ``angle`` degrees
    counter-clockwise (as ``Image.rotate(angle, expand=True)`` draws it), and the new size."""
    w, h = size
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    new_w = math.ceil(abs(w * cos) + abs(h * sin))
    new_h = math.ceil(abs(w * sin) + abs(h * cos))
    # Counter-clockwise on screen, where y points down: (x, y) -> (x cos + y sin, -x sin + y cos).
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    matrix[:, 2] = np.array([new_w / 2, new_h / 2]) - matrix[:, :2] @ np.array([w / 2, h / 2])
    return matrix, (new_w, new_h)


def compose_page(
    lines: Sequence[tuple[Image.Image, str]],
    rng: np.random.Generator,
    style: PageStyle | None = None,
    name: str = "page",
) -> ComposedPage:
    """One page holding ``lines`` top to bottom, with their text and boxes as ground truth."""
    style = style or PageStyle()
    scale = float(rng.uniform(*style.scale))
    strips = [_darkness(image, scale) for image, _ in lines]
    margins = rng.integers(style.margin[0], style.margin[1] + 1, 4)  # left, top, right, bottom
    indents = [
        int(rng.integers(style.indent[0], style.indent[1] + 1) * scale)
        if rng.random() < style.indent_share
        else 0
        for _ in strips
    ]
    gaps = [int(rng.integers(style.gap[0], style.gap[1] + 1) * scale) for _ in strips]
    gaps[0] = 0
    ys = np.cumsum([g for g in gaps]) + np.cumsum([0] + [s.shape[0] for s in strips[:-1]])
    ys = [int(y + margins[1]) for y in ys]
    xs = [int(margins[0] + indent) for indent in indents]
    width = max([x + s.shape[1] for x, s in zip(xs, strips, strict=True)] + [1]) + margins[2]
    height = (ys[-1] + strips[-1].shape[0] if strips else 1) + margins[3]

    page = np.ones((height, width), np.float32)
    truth: list[tuple[str, np.ndarray, np.ndarray]] = []  # text, ink box corners, image corners
    for (x, y, strip), (_, text) in zip(zip(xs, ys, strips, strict=True), lines, strict=True):
        h, w = strip.shape
        page[y : y + h, x : x + w] *= strip
        rows = np.flatnonzero((strip < INK_LEVEL).any(axis=1))
        cols = np.flatnonzero((strip < INK_LEVEL).any(axis=0))
        if rows.size:
            x0, y0, x1, y1 = x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1
        else:  # a blank line image: its whole extent
            x0, y0, x1, y1 = x, y, x + w, y + h
        ink = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
        outline = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], float)
        truth.append((text, ink, outline))

    paper = float(rng.uniform(*style.paper))
    shade = _shading(rng, (height, width), float(rng.uniform(0, style.shading)))
    pixels = page * paper * shade
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    angle = float(rng.uniform(-style.rotation, style.rotation)) if style.rotation else 0.0
    matrix = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    if angle:
        matrix, _ = _rotation(angle, image.size)
        image = image.rotate(
            angle, Image.Resampling.BILINEAR, expand=True, fillcolor=int(paper * shade.mean())
        )
    noise = float(rng.uniform(0, style.noise))
    if noise > 0:
        noisy = np.asarray(image, np.float32) + rng.normal(0, noise, (image.height, image.width))
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "L")

    out = ComposedPage(image, name=name, line_images=[line_image for line_image, _ in lines])
    for text, ink, outline in truth:
        ink_points = ink @ matrix[:, :2].T + matrix[:, 2]
        box = (
            max(0, math.floor(ink_points[:, 0].min())),
            max(0, math.floor(ink_points[:, 1].min())),
            min(image.width, math.ceil(ink_points[:, 0].max())),
            min(image.height, math.ceil(ink_points[:, 1].max())),
        )
        corners = np.rint(outline @ matrix[:, :2].T + matrix[:, 2]).astype(int)
        polygon = tuple((int(px), int(py)) for px, py in corners)
        out.lines.append(TruthLine(text, box, polygon))
    return out


def _shading(rng: np.random.Generator, shape: tuple[int, int], depth: float) -> np.ndarray:
    """Uneven paper: a smooth random field between 1 - depth and 1."""
    if depth <= 0:
        return np.ones(shape, np.float32)
    coarse = Image.fromarray(rng.uniform(0, 1, (3, 3)).astype(np.float32), "F")
    smooth = np.asarray(coarse.resize((shape[1], shape[0]), Image.Resampling.BICUBIC))
    smooth = (smooth - smooth.min()) / max(float(np.ptp(smooth)), 1e-6)
    return (1.0 - depth * smooth).astype(np.float32)


def line_groups(
    samples: Sequence[LineSample], lines_per_page: int = LINES_PER_PAGE
) -> list[list[LineSample]]:
    """IAM-style ids (``form-line``, from the file name) group lines by form, in line order;
    other samples go in chunks of ``lines_per_page`` in dataset order."""
    if lines_per_page < 1:
        raise HwrError(f"lines per page must be at least 1, got {lines_per_page}")
    stems = [
        re.sub(r"\.[A-Za-z]+$", "", s.name.replace("\\", "/").rsplit("/", 1)[-1]) for s in samples
    ]
    matches = [FORM_LINE.match(stem) for stem in stems]
    if samples and all(matches):
        forms: dict[str, list[tuple[int, LineSample]]] = {}
        for match, sample in zip(matches, samples, strict=True):
            assert match is not None
            forms.setdefault(match["form"], []).append((int(match["line"]), sample))
        return [[s for _, s in sorted(group, key=lambda t: t[0])] for group in forms.values()]
    return [list(samples[i : i + lines_per_page]) for i in range(0, len(samples), lines_per_page)]


def pages_from_lines(
    samples: Sequence[LineSample],
    seed: int = 0,
    style: PageStyle | None = None,
    lines_per_page: int = LINES_PER_PAGE,
) -> Iterator[ComposedPage]:
    """Compose one page per group of ``line_groups``; page i depends only on (seed, i)."""
    for i, group in enumerate(line_groups(samples, lines_per_page)):
        rng = np.random.default_rng([seed, i])
        name = _group_name(group, i)
        yield compose_page([(s.image, s.text) for s in group], rng, style, name)


def _group_name(group: Sequence[LineSample], index: int) -> str:
    stem = group[0].name.replace("\\", "/").rsplit("/", 1)[-1]
    match = FORM_LINE.match(re.sub(r"\.[A-Za-z]+$", "", stem))
    return match["form"] if match else f"page-{index:04d}"


def truth_record(page: ComposedPage) -> dict[str, Any]:
    return {
        "name": page.name,
        "width": page.image.width,
        "height": page.image.height,
        "text": page.text,
        "lines": [
            {"text": line.text, "box": list(line.box), "polygon": [list(p) for p in line.polygon]}
            for line in page.lines
        ],
    }


def truth_page_xml(page: ComposedPage, file_name: str) -> str:
    """The ground truth as PAGE-XML, so archive tools can open the composed pages."""
    from runtimes.pages.layout import LineRegion, PageLine, PageResult
    from runtimes.pages.page_xml import to_page_xml

    lines = [PageLine(t.text, 1.0, LineRegion(t.box, t.polygon, ())) for t in page.lines]
    result = PageResult(file_name, page.image.width, page.image.height, 0.0, lines)
    return to_page_xml(result, creator="hwr synth --pages (ground truth)")


def write_pages(data: str, split: str, count: int, seed: int, out: Path) -> int:
    """Compose up to ``count`` pages from ``data`` and write NAME.png, NAME.json, NAME.xml."""
    from hwr_export.atomic import atomic_path, atomic_write_text
    from hwr_export.data.sources import open_lines

    if data == "synthetic":  # the seed picks the lines too
        from hwr_export.data.synthetic import SyntheticLines

        lines = SyntheticLines(count * LINES_PER_PAGE, seed=seed)
        samples: Sequence[LineSample] = [
            LineSample(f"synthetic-{seed}-{i}", lines.text(i), partial(lines.image, i))
            for i in range(len(lines))
        ]
    else:
        samples = open_lines(data, split)
    written = 0
    for page in itertools.islice(pages_from_lines(samples, seed=seed), count):
        stem = out / page.name
        with atomic_path(stem.with_suffix(".png")) as tmp:
            page.image.save(tmp, format="PNG")
        atomic_write_text(
            stem.with_suffix(".json"), json.dumps(truth_record(page), indent=1) + "\n"
        )
        atomic_write_text(stem.with_suffix(".xml"), truth_page_xml(page, f"{page.name}.png"))
        written += 1
    return written
