"""The shipped sentence corpus: real English sentences in the IAM charset, drawn reproducibly."""

from __future__ import annotations

from hwr_export.data.sentences import draw_sentences, load_sentences
from runtimes.contract import IAM_CHARSET


def test_sentences_are_clean_and_in_the_charset() -> None:
    sentences = load_sentences()
    assert len(sentences) == 30_000
    assert all(set(s) <= set(IAM_CHARSET) for s in sentences)
    assert all(4 <= len(s.split()) <= 30 for s in sentences)


def test_draws_are_reproducible_and_vary_with_the_seed() -> None:
    assert draw_sentences(5, seed=1) == draw_sentences(5, seed=1)
    assert draw_sentences(5, seed=1) != draw_sentences(5, seed=2)
    assert len(draw_sentences(50, seed=0)) == 50
