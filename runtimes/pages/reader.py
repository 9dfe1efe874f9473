"""Read whole pages: a segmenter finds the lines, a Recognizer reads them, in reading order.

    from runtimes.recognizer import Recognizer
    from runtimes.pages import PageReader

    reader = PageReader(Recognizer.load("model.onnx"))
    page = reader.read("scan.png")
    page.text, [(line.text, line.region.box) for line in page.lines]

The lines of a page are read together, width-bucketed and batched like any list of lines.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from runtimes.errors import HwrError
from runtimes.pages.layout import PageLine, PageResult
from runtimes.pages.page_image import MAX_PAGE_PIXELS, load_page
from runtimes.pages.segmenter import ClassicalSegmenter, Segmenter
from runtimes.preprocess import ImageLike
from runtimes.recognizer import Recognizer


class PageReader:
    def __init__(
        self,
        recognizer: Recognizer,
        segmenter: Segmenter | None = None,
        batch_size: int = 16,
        max_pixels: int = MAX_PAGE_PIXELS,
    ) -> None:
        if batch_size < 1:
            raise HwrError(f"batch size must be at least 1, got {batch_size}")
        self.recognizer = recognizer
        self.segmenter = segmenter or ClassicalSegmenter()
        self.batch_size = batch_size
        self.max_pixels = max_pixels

    def read(self, page: ImageLike | str | Path, name: str | None = None) -> PageResult:
        """One page; an unreadable or oversized file raises ImageError naming it."""
        gray = load_page(page, self.max_pixels)
        start = time.perf_counter()
        found = self.segmenter.segment(gray)
        segmented = time.perf_counter()
        crops = [line.crop for line in found.lines]
        predictions = self.recognizer.transcribe(crops, self.batch_size) if crops else []
        done = time.perf_counter()
        label = (
            name if name is not None else (str(page) if isinstance(page, (str, Path)) else "page")
        )
        return PageResult(
            file=label,
            width=found.width,
            height=found.height,
            skew=found.skew,
            lines=[
                PageLine(p.text, p.confidence, line.region, tuple(p.char_confidences))
                for p, line in zip(predictions, found.lines, strict=True)
            ],
            segment_ms=1000 * (segmented - start),
            recognize_ms=1000 * (done - segmented),
        )

    def read_paths(self, paths: Iterable[str | Path]) -> Iterator[tuple[Path, PageResult | str]]:
        """(path, page) in input order, or (path, one-line error) for a page that cannot be read."""
        for path in paths:
            path = Path(path)
            try:
                yield path, self.read(path)
            except HwrError as exc:
                message = str(exc)
                yield path, message if message.startswith(str(path)) else f"{path}: {message}"
