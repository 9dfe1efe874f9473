"""What `hwr transcribe --pages` writes for each page: a JSON line, and on request a PAGE-XML or
ALTO file and a picture of the lines found. Every file is written atomically."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TextIO

from hwr_export import __version__
from hwr_export.atomic import atomic_path, atomic_write_text
from runtimes.errors import HwrError
from runtimes.pages.layout import PageResult

XML_SUFFIX = {"page-xml": ".xml", "alto": ".alto.xml"}


class OutputFormat(str, Enum):
    json = "json"
    page_xml = "page-xml"
    alto = "alto"


class PageWriter:
    """Writes each read page's files; distinct pages with the same file stem get -2, -3 ..."""

    def __init__(
        self,
        stream: TextIO,
        output_format: OutputFormat,
        xml_dir: Path | None,
        draw_dir: Path | None,
    ) -> None:
        if output_format is not OutputFormat.json and xml_dir is None:
            raise HwrError(
                f"--output-format {output_format.value} needs -o DIR, the folder for the files"
            )
        self.stream = stream
        self.output_format = output_format
        self.xml_dir = xml_dir
        self.draw_dir = draw_dir
        self._stems: dict[str, int] = {}

    def _stem(self, path: Path) -> str:
        seen = self._stems.get(path.stem, 0) + 1
        self._stems[path.stem] = seen
        return path.stem if seen == 1 else f"{path.stem}-{seen}"

    def write(self, path: Path, page: PageResult) -> None:
        record = page.to_record()
        stem = self._stem(path)
        if self.xml_dir is not None and self.output_format is not OutputFormat.json:
            target = self.xml_dir / (stem + XML_SUFFIX[self.output_format.value])
            atomic_write_text(target, self._xml(page))
            record[self.output_format.value] = str(target)
        if self.draw_dir is not None:
            from runtimes.pages.draw import draw_lines
            from runtimes.pages.page_image import load_page

            picture = draw_lines(load_page(path), [line.region for line in page.lines])
            target = self.draw_dir / f"{stem}.png"
            with atomic_path(target) as tmp:
                picture.save(tmp, format="PNG")
            record["drawing"] = str(target)
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.stream.flush()

    def write_error(self, path: Path, message: str) -> None:
        self.stream.write(
            json.dumps({"file": str(path), "error": message}, ensure_ascii=False) + "\n"
        )
        self.stream.flush()

    def _xml(self, page: PageResult) -> str:
        creator = f"hwr {__version__}"
        if self.output_format is OutputFormat.page_xml:
            from runtimes.pages.page_xml import to_page_xml

            return to_page_xml(page, creator=creator)
        from runtimes.pages.alto import to_alto

        return to_alto(page, creator=creator)
