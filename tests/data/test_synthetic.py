"""The embedded synthetic line generator: deterministic, IAM-like geometry, charset-clean text."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from hwr_export.data import synthetic
from hwr_export.data.corpus import NAMES, WORDS, EnglishLines, frequent_words
from hwr_export.data.synthetic import SyntheticLines, render_line
from runtimes.contract import IAM_CHARSET, REFERENCE_CHARSET
from runtimes.errors import HwrError


def pixels(image) -> np.ndarray:
    return np.asarray(image)


def test_item_depends_only_on_seed_and_index() -> None:
    first = SyntheticLines(10, seed=3)
    later = [first[i] for i in (7, 2, 5)]
    fresh = SyntheticLines(10, seed=3)
    for index, (image, text) in zip((7, 2, 5), later, strict=True):
        image_again, text_again = fresh[index]  # read in another order, by another object
        assert text_again == text
        assert np.array_equal(pixels(image_again), pixels(image))


def test_different_seeds_and_indices_differ() -> None:
    a, b = SyntheticLines(4, seed=0), SyntheticLines(4, seed=1)
    assert [a[i][1] for i in range(4)] != [b[i][1] for i in range(4)]
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(1)
    image_a, image_b = render_line("same text", rng_a), render_line("same text", rng_b)
    assert image_a.size != image_b.size or not np.array_equal(pixels(image_a), pixels(image_b))


def test_text_matches_the_rendered_item() -> None:
    lines = SyntheticLines(5, seed=2)
    assert [lines.text(i) for i in range(5)] == [lines[i][1] for i in range(5)]


@pytest.mark.parametrize("height", [32, 64])
def test_height_and_mode(height: int) -> None:
    for image, _ in SyntheticLines(4, seed=4, height=height):
        assert image.mode == "L"
        assert image.height == height


def test_width_grows_with_text_and_matches_iam_scale() -> None:
    short, long = "the cat", "the cat sat on the mat with a hat and a bag of books"
    for seed in range(5):
        short_width = render_line(short, np.random.default_rng(seed)).width
        long_width = render_line(long, np.random.default_rng(seed)).width
        assert long_width > 3 * short_width
        assert 8 <= long_width / len(long) <= 30  # IAM lines at 64 px: about 10-20 px a character


def test_dark_ink_on_light_paper() -> None:
    for image, text in SyntheticLines(12, seed=5):
        values = pixels(image)
        assert values.mean() > 160, text
        assert values.min() < 128, text
        assert np.median(values) > 200, text  # most of the line is paper


def test_bad_index_raises_index_error() -> None:
    lines = SyntheticLines(3)
    for index in (-1, 3, 10):
        with pytest.raises(IndexError):
            lines[index]
    assert len(list(lines)) == 3  # iteration stops at the end


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(HwrError):
        SyntheticLines(-1)
    with pytest.raises(HwrError):
        SyntheticLines(5, min_words=4, max_words=2)
    with pytest.raises(HwrError):
        render_line("x", np.random.default_rng(0), height=4)
    with pytest.raises(HwrError, match="character"):
        render_line("caf\u00e9", np.random.default_rng(0))  # no stroke font has accents


def test_every_charset_character_renders() -> None:
    rng = np.random.default_rng(0)
    for char in IAM_CHARSET:
        values = pixels(render_line(char, rng))
        assert values.shape[0] == 64
        if char != " ":
            assert values.min() < 200, f"no ink for {char!r}"
    for blank in ("", "   "):
        image = render_line(blank, rng)
        assert image.height == 64 and image.width > 0


@pytest.mark.parametrize("charset", [IAM_CHARSET, REFERENCE_CHARSET, "abcdefghij .,"])
def test_texts_use_only_the_charset_and_word_limits(charset: str) -> None:
    lines = SyntheticLines(300, seed=6, charset=charset, min_words=2, max_words=5)
    texts = [lines.text(i) for i in range(len(lines))]
    for text in texts:
        assert set(text) <= set(charset), text
        assert 2 <= len(text.split()) <= 5, text


def test_text_is_english_like_with_capitals_digits_and_punctuation() -> None:
    source = EnglishLines(max_words=10)
    texts = [source.line(np.random.default_rng([7, i])) for i in range(300)]
    tokens = [t.strip("\"'().,;:!?").lower() for text in texts for t in text.split()]
    known = {w.lower() for w in WORDS + NAMES + list(frequent_words()[0])}
    assert sum(t in known for t in tokens) / len(tokens) > 0.8
    joined = "".join(texts)
    assert any(c.isupper() for c in joined) and any(c.isdigit() for c in joined)
    assert {",", ".", '"'} <= set(joined)
    assert max(len(t.split()) for t in texts) == 10


def test_about_half_the_lines_are_runs_of_words_from_real_sentences() -> None:
    from hwr_export.data.sentences import load_sentences

    corpus = "\n".join(load_sentences())
    source = EnglishLines(min_words=4, max_words=10)
    texts = [source.line(np.random.default_rng([8, i])) for i in range(200)]
    from_sentences = sum(text in corpus for text in texts)
    assert 60 <= from_sentences <= 140, from_sentences
    digits_only = EnglishLines(charset="0123456789 ", min_words=1, max_words=3)
    assert not digits_only.sentences  # no Latin letters: word lines only


def test_ttf_fonts_are_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # No handwriting TTF is installed here; a plain TTF exercises the same path.
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    text = "Hello world, 1984!"
    stroke_image = render_line(text, np.random.default_rng(0))
    monkeypatch.setattr(synthetic, "find_handwriting_fonts", lambda: (str(font),))
    monkeypatch.setattr(synthetic, "TTF_SHARE", 1.0)
    ttf_image = render_line(text, np.random.default_rng(0))
    values = pixels(ttf_image)
    assert ttf_image.mode == "L" and values.shape[0] == 64
    assert values.mean() > 160 and values.min() < 128
    assert 8 <= ttf_image.width / len(text) <= 30
    assert stroke_image.size != ttf_image.size or not np.array_equal(pixels(stroke_image), values)
    assert render_line(" ", np.random.default_rng(0)).height == 64
