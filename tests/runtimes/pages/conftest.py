"""Composed pages of synthetic lines (no IAM) and the bundled model, shared by the page tests."""

from __future__ import annotations

import numpy as np
import pytest

from hwr_export.data.pages import ComposedPage, PageStyle, compose_page
from hwr_export.data.synthetic import SyntheticLines
from hwr_export.model.source import default_model_path
from runtimes.recognizer import Recognizer

CLEAN = PageStyle(
    margin=(20, 30),
    gap=(8, 14),
    indent=(0, 60),
    rotation=0.0,
    scale=(1.0, 1.0),
    noise=0.0,
    shading=0.0,
)


def compose(seed: int, lines: int, style: PageStyle, height: int = 40) -> ComposedPage:
    # Word lines only: these pages (and the exact boxes asserted on them) predate sentence lines.
    source = SyntheticLines(lines, seed=seed, height=height, sentence_share=0.0)
    return compose_page([source[i] for i in range(lines)], np.random.default_rng(seed), style)


@pytest.fixture(scope="session", name="compose")
def compose_fixture():
    """compose(seed, lines, style, height=40) -> ComposedPage"""
    return compose


@pytest.fixture(scope="session", name="clean")
def clean_fixture() -> PageStyle:
    return CLEAN


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    return Recognizer.load(default_model_path(), threads=1)


@pytest.fixture(scope="session")
def clean_page() -> ComposedPage:
    return compose(11, 4, CLEAN)
