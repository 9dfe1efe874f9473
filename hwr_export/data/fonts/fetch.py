"""Download the pinned font archives, extract the font files, verify them, install as TrueType.

Archives are npm tarballs (``.tgz``) or Debian packages (an ``ar`` archive holding
``data.tar.xz``); both are read in memory with the standard library. WOFF/WOFF2 files are
converted to TrueType with fontTools so that Pillow's FreeType reads every font the same way.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from hwr_export.atomic import atomic_path, atomic_write_text
from hwr_export.data.fonts.catalog import (
    INSTALLED_NAME,
    FontEntry,
    font_cache_dir,
    load_manifest,
    sha256_bytes,
)
from runtimes.errors import HwrError

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")


def _debian_data_tar(archive: bytes) -> tarfile.TarFile:
    """The data member of a .deb (an ``ar`` archive) as an open tarfile."""
    if not archive.startswith(b"!<arch>\n"):
        raise HwrError("not a Debian package (no ar header)")
    pos = 8
    while pos + 60 <= len(archive):
        header = archive[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = archive[pos + 60 : pos + 60 + size]
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise HwrError("zstd-compressed Debian package: not readable with Python's tarfile")
            return tarfile.open(fileobj=io.BytesIO(body))
        pos += 60 + size + (size % 2)
    raise HwrError("Debian package without a data.tar member")


def _open_tar(archive: bytes, source: str) -> tarfile.TarFile:
    if source == "npm":
        return tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz")
    if source == "debian":
        return _debian_data_tar(archive)
    raise HwrError(f"unknown font source {source!r}")


def font_members(archive: bytes, source: str) -> list[str]:
    with _open_tar(archive, source) as tar:
        return sorted(
            m.name
            for m in tar.getmembers()
            if m.isfile() and m.name.lower().endswith(FONT_SUFFIXES)
        )


def extract_member(archive: bytes, source: str, member: str) -> bytes:
    with _open_tar(archive, source) as tar:
        file = tar.extractfile(member)  # read into memory: nothing is written from the archive
        if file is None:
            raise HwrError(f"{member}: not a regular file in the archive")
        return file.read()


def to_truetype(data: bytes, path: Path) -> Path:
    """Write a font (TTF, OTF, WOFF or WOFF2 bytes) to ``path`` as an sfnt file."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    font.flavor = None  # WOFF/WOFF2 -> plain sfnt
    with atomic_path(path) as tmp:
        font.save(str(tmp))
    return path


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HwrError(f"{url}: download failed ({reason}); are you offline?") from None


def fetch_fonts(
    folder: Path | None = None, entries: Iterable[FontEntry] | None = None, force: bool = False
) -> list[Path]:
    """Install every manifest font into ``folder``; already installed ones are kept."""
    folder = folder or font_cache_dir()
    entries = list(load_manifest() if entries is None else entries)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HwrError(f"{folder}: cannot create font folder ({exc.strerror})") from None
    archives: dict[str, bytes] = {}
    installed: list[Path] = []
    failures: list[str] = []
    for entry in entries:
        target = folder / f"{entry.name}.ttf"
        if target.is_file() and not force:
            installed.append(target)
            continue
        try:
            installed.append(_install(entry, target, archives))
        except HwrError as exc:  # one unreachable or changed archive must not cost the rest
            failures.append(str(exc))
            print(f"hwr: {exc}", file=sys.stderr)
            continue
        print(f"hwr: installed {entry.name} ({entry.package} {entry.version})", file=sys.stderr)
    names = sorted(p.stem for p in installed)
    atomic_write_text(folder / INSTALLED_NAME, json.dumps(names, indent=1) + "\n")
    if failures:
        raise HwrError(
            f"{len(failures)} of {len(entries)} fonts not installed (first: {failures[0]}); "
            f"the {len(installed)} others are installed in {folder}"
        )
    return installed


def _install(entry: FontEntry, target: Path, archives: dict[str, bytes]) -> Path:
    """Download (once per archive), verify and convert one font."""
    if entry.url not in archives:
        archive = _download(entry.url)
        if sha256_bytes(archive) != entry.archive_sha256:
            raise HwrError(f"{entry.url}: checksum mismatch, refusing to install it")
        archives[entry.url] = archive
    data = extract_member(archives[entry.url], entry.source, entry.member)
    if sha256_bytes(data) != entry.sha256:
        raise HwrError(f"{entry.name}: {entry.member} checksum mismatch, refusing it")
    return to_truetype(data, target)
