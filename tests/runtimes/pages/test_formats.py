"""PAGE-XML and ALTO written for read pages validate against the published schemas (offline)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from runtimes.pages.alto import to_alto
from runtimes.pages.layout import LineRegion, PageLine, PageResult
from runtimes.pages.page_xml import to_page_xml
from runtimes.pages.reader import PageReader

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
PAGE_NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
ALTO_NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}


@pytest.fixture(scope="module")
def page_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "pagecontent-2019-07-15.xsd"), allow="local")


@pytest.fixture(scope="module")
def alto_schema() -> xmlschema.XMLSchema:
    xlink = {"http://www.w3.org/1999/xlink": str(SCHEMAS / "xlink.xsd")}
    return xmlschema.XMLSchema(str(SCHEMAS / "alto-4-4.xsd"), locations=xlink, allow="local")


@pytest.fixture(scope="module")
def read_page(recognizer, clean_page) -> PageResult:
    return PageReader(recognizer).read(clean_page.image, "scans/clean.png")


def test_page_xml_is_valid_and_complete(page_schema, read_page) -> None:
    document = to_page_xml(read_page)
    page_schema.validate(document)
    root = ET.fromstring(document)
    lines = root.findall(".//pc:TextLine", PAGE_NS)
    assert len(lines) == len(read_page.lines)
    for element, line in zip(lines, read_page.lines, strict=True):
        assert element.find("pc:TextEquiv/pc:Unicode", PAGE_NS).text == line.text
        assert float(element.find("pc:TextEquiv", PAGE_NS).get("conf")) == pytest.approx(
            line.confidence, abs=1e-4
        )
        points = element.find("pc:Coords", PAGE_NS).get("points")
        assert points == " ".join(f"{x},{y}" for x, y in line.region.polygon)
    assert root.find(".//pc:Page", PAGE_NS).get("imageFilename") == "clean.png"


def test_alto_is_valid_and_complete(alto_schema, read_page) -> None:
    document = to_alto(read_page)
    alto_schema.validate(document)
    root = ET.fromstring(document)
    lines = root.findall(".//a:TextLine", ALTO_NS)
    assert len(lines) == len(read_page.lines)
    for element, line in zip(lines, read_page.lines, strict=True):
        words = [s.get("CONTENT") for s in element.findall("a:String", ALTO_NS)]
        assert " ".join(words) == " ".join(line.text.split())
        x0, y0, x1, y1 = line.region.box
        assert (element.get("HPOS"), element.get("WIDTH")) == (str(x0), str(x1 - x0))


def test_empty_and_awkward_pages_are_valid(page_schema, alto_schema) -> None:
    region = LineRegion((0, 5, 40, 30), ((0, 5), (40, 5), (40, 30), (0, 30)), ((0, 25), (40, 25)))
    awkward = [PageLine('  <a & "b">  ', 0.5, region, (0.5,) * 12), PageLine("", 0.0, region)]
    for page in (
        PageResult("blank.png", 50, 40, 0.0, []),
        PageResult("x.png", 50, 40, 0.0, awkward),
    ):
        page_schema.validate(to_page_xml(page))
        alto_schema.validate(to_alto(page))
