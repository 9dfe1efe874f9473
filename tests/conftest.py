"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_user_fonts(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Tests see an empty font cache, as CI does, whatever the developer's machine has."""
    from hwr_export.data import synthetic
    from hwr_export.data.fonts.catalog import warn_no_fonts_once

    find_fonts = synthetic.find_handwriting_fonts  # a test may monkeypatch the module attribute
    monkeypatch.setenv("HWR_FONTS_DIR", str(tmp_path_factory.mktemp("no-fonts")))
    find_fonts.cache_clear()
    warn_no_fonts_once.cache_clear()
    yield
    find_fonts.cache_clear()
