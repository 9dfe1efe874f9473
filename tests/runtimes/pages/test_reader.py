"""The page reader: page text equals reading the true line crops one by one; bad input."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hwr_export.bench.page_metrics import iou_matrix
from runtimes.errors import ImageError, RuntimeUnavailableError
from runtimes.pages.page_image import PageTooLargeError, load_page
from runtimes.pages.reader import PageReader


def test_page_text_equals_reading_the_true_crops(recognizer, clean_page) -> None:
    crops = [clean_page.image.crop(line.box) for line in clean_page.lines]
    one_by_one = [p.text for p in recognizer.transcribe(crops, batch_size=1)]
    page = PageReader(recognizer).read(clean_page.image)
    assert [line.text for line in page.lines] == one_by_one
    assert page.text == "\n".join(one_by_one)
    assert page.segment_ms > 0 and page.recognize_ms > 0
    record = page.to_record()
    assert [line["box"] for line in record["lines"]] == [list(x.region.box) for x in page.lines]


def test_a_single_line_image_reads_as_one_line(recognizer, compose, clean) -> None:
    single = compose(4, 1, clean)
    for image in (single.image, single.line_images[0]):  # on a page, and the bare line image
        page = PageReader(recognizer).read(image)
        assert len(page.lines) == 1
        assert page.text == page.lines[0].text != ""
    page = PageReader(recognizer).read(single.image)
    assert iou_matrix([page.lines[0].region.box], [single.lines[0].box])[0, 0] > 0.9


def test_a_blank_page_reads_as_nothing(recognizer) -> None:
    page = PageReader(recognizer).read(Image.new("L", (500, 300), 240))
    assert page.lines == [] and page.text == ""


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` (1-bit) with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(20_000, 20_000), (9_000, 9_000)])
def test_huge_pages_are_refused_before_decoding(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "huge.png"
    _png_header_only(path, *size)
    with pytest.raises(
        PageTooLargeError, match=r"huge.png: page is .*above the 60 MP limit; downscale"
    ):
        load_page(path)


def test_unreadable_pages_are_per_item_errors(recognizer, tmp_path: Path, clean_page) -> None:
    good = tmp_path / "good.png"
    clean_page.image.save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    huge = tmp_path / "huge.png"
    _png_header_only(huge, 20_000, 20_000)
    results = list(
        PageReader(recognizer).read_paths([broken, good, tmp_path / "missing.png", huge])
    )
    assert [p.name for p, _ in results] == ["broken.png", "good.png", "missing.png", "huge.png"]
    messages = [r for _, r in results if isinstance(r, str)]
    assert len(messages) == 3 and all("\n" not in m for m in messages)
    assert "not a recognised image format" in messages[0]
    assert "file not found" in messages[1]
    assert "60 MP limit" in messages[2]
    with pytest.raises(ImageError):
        PageReader(recognizer).read(broken)


def test_page_reading_is_torch_free() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from runtimes.pages import ClassicalSegmenter, PageReader, to_alto, to_page_xml\n"
        "found = ClassicalSegmenter().segment(np.full((50, 80), 250, np.uint8))\n"
        "print(len(found.lines))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_missing_opencv_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtimes.pages import _deps

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(RuntimeUnavailableError, match=r"needs OpenCV.*pip install 'hwr\[pages\]'"):
        _deps.require_page_libraries()


def test_array_pages_are_checked_too() -> None:
    with pytest.raises(PageTooLargeError):
        load_page(np.zeros((100, 100), np.uint8), limit=5_000)
