"""Handwriting fonts: pinned manifest, verified install into the cache, the font line renderer."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from hwr_export.data import synthetic
from hwr_export.data.fonts.catalog import (
    FontEntry,
    installed_fonts,
    load_manifest,
    missing_characters,
    sha256_bytes,
)
from hwr_export.data.fonts.fetch import fetch_fonts
from hwr_export.data.handwriting import render_font_line
from runtimes.contract import IAM_CHARSET
from runtimes.errors import HwrError

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def npm_archive(tmp_path: Path, font: bytes) -> Path:
    """A tarball laid out like an npm @fontsource package."""
    path = tmp_path / "pkg.tgz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/files/demo-latin-400-normal.ttf")
        info.size = len(font)
        tar.addfile(info, io.BytesIO(font))
    return path


def entry_for(archive: Path, font: bytes, **changes: str) -> FontEntry:
    fields = dict(
        name="demo",
        source="npm",
        package="@fontsource/demo",
        version="1.0.0",
        url=archive.as_uri(),
        member="package/files/demo-latin-400-normal.ttf",
        licence="OFL-1.1",
        sha256=sha256_bytes(font),
        archive_sha256=sha256_bytes(archive.read_bytes()),
    )
    return FontEntry(**{**fields, **changes})


def test_manifest_pins_enough_distinct_hands_that_draw_the_charset() -> None:
    entries = load_manifest()
    assert len({e.name for e in entries}) == len(entries)
    families = {e.package if e.source == "npm" else e.name.split("-")[0] for e in entries}
    assert len(families) >= 50
    for e in entries:
        assert len(e.sha256) == 64 and len(e.archive_sha256) == 64 and e.licence
        assert e.url.startswith(("https://registry.npmjs.org/", "http://deb.debian.org/"))


def test_fetch_verifies_and_installs_into_the_cache(tmp_path: Path) -> None:
    font = FONT.read_bytes()
    archive = npm_archive(tmp_path, font)
    cache = tmp_path / "cache"
    installed = fetch_fonts(cache, [entry_for(archive, font)])
    assert installed == [cache / "demo.ttf"]
    assert json.loads((cache / "installed.json").read_text()) == ["demo"]
    assert installed_fonts(cache) == (cache / "demo.ttf",)
    assert missing_characters(cache / "demo.ttf", IAM_CHARSET) == ""


def test_fetch_refuses_a_file_that_does_not_match_the_manifest(tmp_path: Path) -> None:
    font = FONT.read_bytes()
    archive = npm_archive(tmp_path, font)
    with pytest.raises(HwrError, match="checksum mismatch"):
        fetch_fonts(tmp_path / "cache", [entry_for(archive, font, sha256="0" * 64)])
    with pytest.raises(HwrError, match="checksum mismatch"):
        fetch_fonts(tmp_path / "cache", [entry_for(archive, font, archive_sha256="0" * 64)])
    assert installed_fonts(tmp_path / "cache") == ()


def test_offline_fetch_is_one_line_error(tmp_path: Path) -> None:
    font = FONT.read_bytes()
    entry = entry_for(npm_archive(tmp_path, font), font, url=(tmp_path / "gone.tgz").as_uri())
    with pytest.raises(HwrError, match="download failed"):
        fetch_fonts(tmp_path / "cache", [entry])


def test_generator_uses_installed_fonts_and_warns_once_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = synthetic.SyntheticLines(30, seed=1)
    stroke_only = [np.asarray(lines[i][0]) for i in range(3)]
    lines[3]
    assert capsys.readouterr().err.count("no handwriting fonts installed") == 1

    font = FONT.read_bytes()
    fetch_fonts(tmp_path / "cache", [entry_for(npm_archive(tmp_path, font), font)])
    monkeypatch.setenv("HWR_FONTS_DIR", str(tmp_path / "cache"))
    synthetic.find_handwriting_fonts.cache_clear()
    assert synthetic.find_handwriting_fonts() == (str(tmp_path / "cache" / "demo.ttf"),)
    with_fonts = [np.asarray(lines[i][0]) for i in range(3)]
    assert any(
        a.shape != b.shape or (a != b).any() for a, b in zip(stroke_only, with_fonts, strict=True)
    )


@pytest.mark.parametrize("seed", range(6))
def test_font_line_looks_like_an_iam_line(seed: int) -> None:
    text = 'A "quick" line, 1962; (really)!'
    image = render_font_line(text, str(FONT), np.random.default_rng(seed))
    values = np.asarray(image)
    assert image.mode == "L" and values.shape[0] == 64
    assert np.median(values) > 200 and values.min() < 140  # light paper, dark ink
    assert 10 <= image.width / len(text) <= 32  # an IAM-like letter pitch
    ink_rows = np.nonzero((values < 150).any(axis=1))[0]
    assert ink_rows[0] < 16 and ink_rows[-1] > 48  # the ink fills the height like a cropped line


def test_font_line_is_deterministic_for_a_seed() -> None:
    a = render_font_line("same seed", str(FONT), np.random.default_rng(3))
    b = render_font_line("same seed", str(FONT), np.random.default_rng(3))
    c = render_font_line("same seed", str(FONT), np.random.default_rng(4))
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert a.size != c.size or not np.array_equal(np.asarray(a), np.asarray(c))


def test_one_unreachable_font_does_not_cost_the_others(tmp_path: Path) -> None:
    font = FONT.read_bytes()
    archive = npm_archive(tmp_path, font)
    good = entry_for(archive, font)
    gone = entry_for(archive, font, name="gone", url=(tmp_path / "gone.tgz").as_uri())
    with pytest.raises(HwrError, match="1 of 2 fonts not installed"):
        fetch_fonts(tmp_path / "cache", [gone, good])
    assert installed_fonts(tmp_path / "cache") == (tmp_path / "cache" / "demo.ttf",)
