"""Language-model decoding on hand-made logits: the LM fixes what greedy decoding gets wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hwr_export.lm.arpa import NgramCounts, estimate, write_arpa
from runtimes.decode import greedy_decode
from runtimes.errors import HwrError, RuntimeUnavailableError
from runtimes.lm import LanguageModel, LmWeights, lm_words

pytest.importorskip("kenlm", reason="the lm extra (make setup installs it)")

CHARSET = "abcdefghijklmnopqrstuvwxyz '.,"
CORPUS = [
    "the cat sat on the mat",
    "the cat ate the rat",
    "a cat and a rat sat on a mat",
    "the dog sat on the cat's mat",
]


def logits_for(frames: list[dict[str, float]]) -> np.ndarray:
    """(T, C) log-probabilities; each frame maps characters ("_" = blank) to probabilities,
    the rest of the mass spread over the other classes."""
    index = {ch: i + 1 for i, ch in enumerate(CHARSET)} | {"_": 0}
    out = np.empty((len(frames), len(CHARSET) + 1))
    for t, frame in enumerate(frames):
        rest = (1.0 - sum(frame.values())) / (len(CHARSET) + 1 - len(frame))
        out[t] = rest
        for ch, p in frame.items():
            out[t, index[ch]] = p
    return np.log(out)


def spelled(text: str, doubt: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """Each character of ``text`` in a frame of its own (p 0.9), a blank frame between; the
    character at index i is replaced by ``doubt[i]`` when given."""
    frames: list[dict[str, float]] = []
    for i, ch in enumerate(text):
        frames.append((doubt or {}).get(i, {ch: 0.9}))
        frames.append({"_": 0.95})
    return logits_for(frames)


@pytest.fixture(scope="module")
def small_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "small.arpa"
    counts = NgramCounts.from_sentences((lm_words(line) for line in CORPUS * 3), order=3)
    write_arpa(estimate(counts), path)
    return path


def test_lm_prefers_a_known_word_where_greedy_reads_a_wrong_one(small_lm: Path) -> None:
    # "the cst sat": the optical model hesitates between s (0.55) and a (0.40) in "cat".
    logits = spelled("the cst sat", {5: {"s": 0.55, "a": 0.40}})
    assert greedy_decode(logits, CHARSET)[0] == "the cst sat"
    lm = LanguageModel.load(small_lm)
    text, confidence, chars = lm.decode(logits, CHARSET)
    assert text == "the cat sat"
    assert len(chars) == len(text) and 0.0 < confidence <= 1.0
    assert chars[5] == pytest.approx(0.40, abs=0.01)  # the aligned frame's probability of "a"


def test_lm_keeps_the_optical_reading_when_it_is_sure(small_lm: Path) -> None:
    logits = spelled("the cst sat", {5: {"s": 0.97}})
    assert LanguageModel.load(small_lm).decode(logits, CHARSET)[0] == "the cst sat"


def test_lm_does_not_merge_words_to_dodge_its_cost(small_lm: Path) -> None:
    # A doubtful space: dropping it would leave one unknown word "catsat".
    logits = spelled("the cat sat", {7: {" ": 0.5, "_": 0.45}})
    assert LanguageModel.load(small_lm).decode(logits, CHARSET)[0] == "the cat sat"


def test_weights_change_the_balance(small_lm: Path) -> None:
    logits = spelled("the cst sat", {5: {"s": 0.55, "a": 0.40}})
    deaf = LanguageModel.load(small_lm, LmWeights(alpha=0.0, beta=0.0, oov_penalty=0.0))
    assert deaf.decode(logits, CHARSET)[0] == "the cst sat"


def test_empty_logits_and_blank_lines(small_lm: Path) -> None:
    lm = LanguageModel.load(small_lm)
    assert lm.decode(np.zeros((0, len(CHARSET) + 1)), CHARSET) == ("", 0.0, [])
    text, confidence, _ = lm.decode(logits_for([{"_": 0.99}] * 5), CHARSET)
    assert text == "" and confidence == pytest.approx(0.99)


def test_bundled_english_binary_model_loads_and_knows_english() -> None:
    lm = LanguageModel.load("en")
    assert lm.order == 3
    assert "the" in lm and "government" in lm and "xqzvw" not in lm
    _, after_of = lm.word_score((), "of")
    known, _ = lm.word_score(after_of, "the")
    odd, _ = lm.word_score(after_of, "teh")
    assert known > odd
    logits = spelled("of thc people", {5: {"c": 0.5, "e": 0.45}})
    assert lm.decode(logits, CHARSET)[0] == "of the people"


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01 not a model at all", b"\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\tthe\n", b""],
    ids=["garbage", "truncated-arpa", "empty"],
)
def test_a_bad_model_file_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.arpa"
    path.write_bytes(content)
    with pytest.raises(HwrError) as info:
        LanguageModel.load(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_a_missing_model_file_names_the_bundled_ones(tmp_path: Path) -> None:
    with pytest.raises(HwrError, match="no such language model file.*bundled: en"):
        LanguageModel.load(tmp_path / "nope.arpa")


def test_without_kenlm_the_error_says_what_to_install(
    small_lm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "kenlm", None)
    with pytest.raises(RuntimeUnavailableError, match=r"pip install 'hwr\[lm\]'"):
        LanguageModel.load(small_lm)


def test_lm_words_are_lowercase_letter_runs_with_inner_apostrophes() -> None:
    assert lm_words("It's 9 o'clock, Mr. Brown-Smith's 'cat'.") == [
        "it's", "o'clock", "mr", "brown", "smith's", "cat"
    ]  # fmt: skip


def test_new_weights_drop_scores_cached_under_the_old_ones(small_lm: Path) -> None:
    lm = LanguageModel.load(small_lm)
    before, _ = lm.word_score((), "cat")
    lm.weights = LmWeights(beta=before + 10.0)
    after, _ = lm.word_score((), "cat")
    assert after != before
    with pytest.raises(HwrError, match="beam width"):
        lm.weights = LmWeights(beam_width=0)
