"""What travels between the page modules: line regions, read lines, read pages.

Coordinates are always the page's own pixels (x to the right, y down), whatever scale or
rotation the segmenter worked at, so boxes can be drawn on the file the user gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive
Point = tuple[int, int]


@dataclass(frozen=True)
class LineRegion:
    """Where one text line is on the page."""

    box: Box  # axis-aligned bounds of the polygon, clipped to the page
    polygon: tuple[Point, ...]  # outline, clockwise from the top left
    baseline: tuple[Point, ...]  # left to right


@dataclass(frozen=True)
class FoundLine:
    """A line as the segmenter hands it to the recognizer."""

    region: LineRegion
    crop: np.ndarray  # uint8 grayscale, deskewed, other lines' ink painted over with paper


@dataclass(frozen=True)
class Segmentation:
    width: int
    height: int
    skew: float  # degrees the page's lines rise to the right (counter-clockwise)
    lines: list[FoundLine]  # in reading order


@dataclass(frozen=True)
class PageLine:
    text: str
    confidence: float
    region: LineRegion
    char_confidences: tuple[float, ...] = ()  # one per character of text

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "box": list(self.region.box),
            "polygon": [list(p) for p in self.region.polygon],
            "baseline": [list(p) for p in self.region.baseline],
        }


@dataclass
class PageResult:
    """One read page: its lines in reading order, and where the time went."""

    file: str
    width: int
    height: int
    skew: float
    lines: list[PageLine] = field(default_factory=list)
    segment_ms: float = 0.0
    recognize_ms: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_record(self) -> dict[str, Any]:
        """The JSON line `hwr transcribe --pages` prints."""
        return {
            "file": self.file,
            "text": self.text,
            "width": self.width,
            "height": self.height,
            "lines": [line.to_record() for line in self.lines],
        }
