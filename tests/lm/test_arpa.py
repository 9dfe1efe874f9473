"""The Kneser-Ney ARPA writer: KenLM reads its files, and every context's distribution sums to 1."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hwr_export.lm.arpa import NgramCounts, estimate, write_arpa

kenlm = pytest.importorskip("kenlm", reason="the lm extra (make setup installs it)")

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "house", "big", "small", "red"]


def sentences(count: int, seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(2, 8))] for _ in range(count)]


def total_probability(model: kenlm.Model, context: list[str], vocab: list[str]) -> float:
    state = kenlm.State()
    if context[:1] == ["<s>"]:
        model.BeginSentenceWrite(state)
        context = context[1:]
    else:
        model.NullContextWrite(state)
    for word in context:
        following = kenlm.State()
        model.BaseScore(state, word, following)
        state = following
    return sum(10 ** model.BaseScore(state, w, kenlm.State()) for w in vocab)


@pytest.mark.parametrize("min_count", [1, 2, 4, (1, 3), (2, 4)])
def test_every_context_sums_to_one_also_after_pruning(
    tmp_path: Path, min_count: int | tuple[int, int]
) -> None:
    path = tmp_path / "lm.arpa"
    model = estimate(NgramCounts.from_sentences(sentences(300), 3), min_count=min_count)
    write_arpa(model, path)
    lm = kenlm.Model(str(path))
    vocab = [*WORDS, "</s>", "<unk>"]
    for context in [[], ["the"], ["the", "cat"], ["red", "red"], ["<s>"], ["<s>", "dog"]]:
        assert total_probability(lm, context, vocab) == pytest.approx(1.0, abs=1e-5), context


def test_pruning_keeps_fewer_ngrams_and_frequent_ones_score_higher(tmp_path: Path) -> None:
    counts = NgramCounts.from_sentences([["the", "cat", "sat"]] * 5 + [["a", "dog", "ran"]], 3)
    full, pruned = estimate(counts, min_count=1), estimate(counts, min_count=2)
    assert len(pruned.entries[2]) < len(full.entries[2])
    assert ("the", "cat", "sat") in pruned.entries[2]
    assert ("a", "dog", "ran") not in pruned.entries[2]
    write_arpa(pruned, tmp_path / "lm.arpa")
    lm = kenlm.Model(str(tmp_path / "lm.arpa"))
    assert lm.score("the cat sat") > lm.score("the sat cat")


def test_each_order_can_be_pruned_on_its_own_count() -> None:
    counts = NgramCounts.from_sentences([["the", "cat", "sat"]] * 2 + [["a", "dog", "ran"]], 3)
    model = estimate(counts, min_count=(1, 3))
    assert ("a", "dog") in model.entries[1]  # bigrams: all kept
    assert ("the", "cat", "sat") not in model.entries[2]  # trigrams: only those seen 3 times
    with pytest.raises(ValueError, match="need 2 minimum counts"):
        estimate(counts, min_count=(1, 2, 3))


def test_extra_words_join_the_vocabulary_with_their_frequencies(tmp_path: Path) -> None:
    counts = NgramCounts.from_sentences(sentences(50), 2)
    model = estimate(counts, extra_words={"zebra": 10.0, "yak": 1.0})
    write_arpa(model, tmp_path / "lm.arpa")
    lm = kenlm.Model(str(tmp_path / "lm.arpa"))
    assert "zebra" in lm and "yak" in lm
    assert lm.score("zebra", bos=False, eos=False) > lm.score("yak", bos=False, eos=False)


def test_files_are_reproducible(tmp_path: Path) -> None:
    for name in ("a.arpa", "b.arpa"):
        write_arpa(estimate(NgramCounts.from_sentences(sentences(80), 3)), tmp_path / name)
    assert (tmp_path / "a.arpa").read_bytes() == (tmp_path / "b.arpa").read_bytes()
