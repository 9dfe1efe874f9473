"""PAGE-XML (the 2019-07-15 schema of PRImA, read by Transkribus, eScriptorium, OCR-D, kraken):
one TextRegion holding the page's lines in reading order, each with its outline, baseline,
text and confidence."""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from runtimes.pages.layout import PageResult, Point

NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
SCHEMA_URL = f"{NAMESPACE}/pagecontent.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def points(coords: Iterable[Point]) -> str:
    return " ".join(f"{max(0, x)},{max(0, y)}" for x, y in coords)


def _add(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)


def _text_equiv(parent: ET.Element, text: str, confidence: float | None = None) -> None:
    attrs = {} if confidence is None else {"conf": f"{min(1.0, max(0.0, confidence)):.4f}"}
    _add(_add(parent, "TextEquiv", **attrs), "Unicode").text = text


def to_page_xml(page: PageResult, creator: str = "hwr", now: _dt.datetime | None = None) -> str:
    """The page as a PAGE-XML document (a str starting with the XML declaration)."""
    ET.register_namespace("", NAMESPACE)
    ET.register_namespace("xsi", XSI)
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element(
        f"{{{NAMESPACE}}}PcGts", {f"{{{XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA_URL}"}
    )
    metadata = _add(root, "Metadata")
    _add(metadata, "Creator").text = creator
    _add(metadata, "Created").text = stamp
    _add(metadata, "LastChange").text = stamp
    sheet = _add(
        root,
        "Page",
        imageFilename=Path(page.file).name,
        imageWidth=str(page.width),
        imageHeight=str(page.height),
    )
    if page.lines:
        order = _add(_add(sheet, "ReadingOrder"), "OrderedGroup", id="ro_1", caption="lines")
        _add(order, "RegionRefIndexed", index="0", regionRef="r_1")
        region = _add(sheet, "TextRegion", id="r_1", type="paragraph")
        x0 = min(line.region.box[0] for line in page.lines)
        y0 = min(line.region.box[1] for line in page.lines)
        x1 = max(line.region.box[2] for line in page.lines)
        y1 = max(line.region.box[3] for line in page.lines)
        _add(region, "Coords", points=points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
        for number, line in enumerate(page.lines, start=1):
            element = _add(region, "TextLine", id=f"r_1_l_{number}")
            _add(element, "Coords", points=points(line.region.polygon))
            if len(line.region.baseline) >= 2:
                _add(element, "Baseline", points=points(line.region.baseline))
            _text_equiv(element, line.text, line.confidence)
        _text_equiv(region, page.text)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
