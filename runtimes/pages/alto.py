"""ALTO v4 (the Library of Congress layout format, read by Goobi, Kitodo, eScriptorium and most
library viewers): one TextBlock, a TextLine per line in reading order, a String per word.

The recognizer reads lines, not words: a word's box is the share of its line that its
characters take (an estimate), and its WC is the mean confidence of its characters.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from runtimes.pages.layout import PageLine, PageResult

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_URL = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _add(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)


def _geometry(box: tuple[int, int, int, int]) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def _words(line: PageLine, line_id: str, parent: ET.Element) -> None:
    """String / SP children: words placed along the line by their share of its characters."""
    text = line.text
    x0, y0, x1, y1 = line.region.box
    scale = (x1 - x0) / max(1, len(text))
    confidences = list(line.char_confidences) or [line.confidence] * len(text)
    start, number = 0, 0
    for word in text.split(" "):
        end = start + len(word)
        if word:
            number += 1
            if number > 1:
                _add(parent, "SP")
            left, right = x0 + round(start * scale), x0 + round(end * scale)
            word_conf = confidences[start:end] or [line.confidence]
            _add(
                parent,
                "String",
                ID=f"{line_id}_w{number}",
                CONTENT=word,
                WC=f"{min(1.0, max(0.0, sum(word_conf) / len(word_conf))):.4f}",
                **_geometry((left, y0, max(left + 1, right), y1)),
            )
        start = end + 1
    if number == 0:  # ALTO wants a String in every TextLine, even an unread one
        _add(parent, "String", ID=f"{line_id}_w1", CONTENT="", **_geometry(line.region.box))


def to_alto(page: PageResult, creator: str = "hwr") -> str:
    """The page as an ALTO v4 document (a str starting with the XML declaration)."""
    ET.register_namespace("", NAMESPACE)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(
        f"{{{NAMESPACE}}}alto", {f"{{{XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA_URL}"}
    )
    description = _add(root, "Description")
    _add(description, "MeasurementUnit").text = "pixel"
    source = _add(description, "sourceImageInformation")
    _add(source, "fileName").text = Path(page.file).name
    software = _add(
        _add(_add(description, "Processing", ID="proc_1"), "processingSoftware"), "softwareName"
    )
    software.text = creator
    sheet = _add(
        _add(root, "Layout"),
        "Page",
        ID="page_1",
        PHYSICAL_IMG_NR="1",
        WIDTH=str(page.width),
        HEIGHT=str(page.height),
        PROCESSINGREFS="proc_1",
    )
    space = _add(sheet, "PrintSpace", **_geometry((0, 0, page.width, page.height)))
    if page.lines:
        x0 = min(line.region.box[0] for line in page.lines)
        y0 = min(line.region.box[1] for line in page.lines)
        x1 = max(line.region.box[2] for line in page.lines)
        y1 = max(line.region.box[3] for line in page.lines)
        block = _add(space, "TextBlock", ID="block_1", **_geometry((x0, y0, x1, y1)))
        for number, line in enumerate(page.lines, start=1):
            line_id = f"line_{number}"
            attrs = _geometry(line.region.box)
            if len(line.region.baseline) >= 2:
                attrs["BASELINE"] = " ".join(f"{x},{y}" for x, y in line.region.baseline)
            element = _add(block, "TextLine", ID=line_id, **attrs)
            polygon = " ".join(f"{x},{y}" for x, y in line.region.polygon)
            _add(_add(element, "Shape"), "Polygon", POINTS=polygon)
            _words(line, line_id, element)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
