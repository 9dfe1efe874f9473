"""Whole pages: find the text lines, read them in order, write PAGE-XML or ALTO.

    from runtimes.recognizer import Recognizer
    from runtimes.pages import PageReader

    page = PageReader(Recognizer.load("model.onnx")).read("scan.png")
    print(page.text)                           # lines joined by newlines, in reading order
    page.lines[0].region.box                   # (x0, y0, x1, y1) in the scan's pixels

Torch-free like the rest of ``runtimes``; the segmenter needs OpenCV and SciPy
(``pip install 'hwr[pages]'``), imported on first use with a one-line error if missing.
"""

from runtimes.lazy import lazy_exports
from runtimes.pages.layout import FoundLine, LineRegion, PageLine, PageResult, Segmentation

__all__ = ["FoundLine", "LineRegion", "PageLine", "PageResult", "Segmentation"]

_LAZY_EXPORTS = {
    "PageReader": "runtimes.pages.reader",
    "ClassicalSegmenter": "runtimes.pages.segmenter",
    "SegmenterConfig": "runtimes.pages.segmenter",
    "load_page": "runtimes.pages.page_image",
    "draw_lines": "runtimes.pages.draw",
    "to_page_xml": "runtimes.pages.page_xml",
    "to_alto": "runtimes.pages.alto",
}
__all__ += list(_LAZY_EXPORTS)

__getattr__ = lazy_exports(__name__, _LAZY_EXPORTS)
