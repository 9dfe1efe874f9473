"""The font manifest and the user's font cache: what is pinned, what is installed."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
INSTALLED_NAME = "installed.json"


@dataclass(frozen=True)
class FontEntry:
    name: str  # unique, lowercase, e.g. "indie-flower"
    source: str  # "npm" or "debian"
    package: str  # "@fontsource/indie-flower" or "fonts-kristi"
    version: str
    url: str  # the archive (npm tarball or .deb)
    member: str  # the font file inside the archive
    licence: str
    sha256: str  # of the font file as it is in the archive
    archive_sha256: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest(path: Path = MANIFEST_PATH) -> list[FontEntry]:
    data = json.loads(path.read_text())
    return [FontEntry(**entry) for entry in data["fonts"]]


def font_cache_dir() -> Path:
    """``$HWR_FONTS_DIR``, else ``$XDG_CACHE_HOME/hwr/fonts``, else ``~/.cache/hwr/fonts``."""
    if os.environ.get("HWR_FONTS_DIR"):
        return Path(os.environ["HWR_FONTS_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "hwr" / "fonts"


def installed_fonts(folder: Path | None = None) -> tuple[Path, ...]:
    """TrueType files that ``hwr fonts fetch`` installed and verified (none if never run)."""
    folder = folder or font_cache_dir()
    record = folder / INSTALLED_NAME
    if not record.is_file():
        return ()
    names = json.loads(record.read_text())
    return tuple(sorted(folder / f"{n}.ttf" for n in names if (folder / f"{n}.ttf").is_file()))


@functools.cache
def warn_no_fonts_once() -> None:
    print(
        "hwr: warning: no handwriting fonts installed (run `hwr fonts fetch`); synthetic lines "
        "use the built-in stroke fonts only",
        file=sys.stderr,
    )


def missing_characters(font_path: Path, charset: str) -> str:
    """Characters of ``charset`` (space aside) that the font has no glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path), lazy=True) as font:
        cmap = font.getBestCmap() or {}
    return "".join(c for c in charset if c != " " and ord(c) not in cmap)
