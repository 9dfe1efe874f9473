"""CTC decoding on hand-made logits with known answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from runtimes.decode import (
    Lexicon,
    Prediction,
    align_confidences,
    beam_decode,
    decode,
    greedy_decode,
    softmax,
)
from runtimes.errors import HwrError

CHARSET = "abc "  # class 1 = a, 2 = b, 3 = c, 4 = space; class 0 = blank
CLASS = {ch: i + 1 for i, ch in enumerate(CHARSET)} | {"_": 0}


def peaked(path: str, p: float = 0.9) -> np.ndarray:
    """Log-probabilities with probability ``p`` on the class of each frame ("_" = blank)."""
    probs = np.full((len(path), len(CHARSET) + 1), (1 - p) / len(CHARSET))
    for t, ch in enumerate(path):
        probs[t, CLASS[ch]] = p
    return np.log(probs)


def test_softmax_rows_sum_to_one_and_resist_overflow() -> None:
    probs = softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.25, 0.75]])


def test_greedy_collapses_repeats_and_drops_blanks() -> None:
    text, confidence, chars = greedy_decode(peaked("_aa_a_bb__c c_"), CHARSET)
    assert text == "aabc c"
    assert chars == pytest.approx([0.9] * 6)
    assert confidence == pytest.approx(0.9)


def test_greedy_character_confidence_is_the_best_frame_of_its_run() -> None:
    logits = peaked("_aa_")
    logits[1] = np.log([0.1, 0.6, 0.1, 0.1, 0.1])
    text, confidence, chars = greedy_decode(logits, CHARSET)
    assert text == "a"
    assert chars == pytest.approx([0.9])


def test_line_confidence_is_the_mean_of_characters() -> None:
    logits = np.concatenate([peaked("a_", 0.9), peaked("b_", 0.5)])
    text, confidence, chars = greedy_decode(logits, CHARSET)
    assert text == "ab"
    assert chars == pytest.approx([0.9, 0.5])
    assert confidence == pytest.approx(0.7)


@pytest.mark.parametrize("decoder", [greedy_decode, beam_decode])
def test_empty_predictions_do_not_crash(decoder: Callable[..., tuple]) -> None:
    assert decoder(np.zeros((0, 5), np.float32), CHARSET) == ("", 0.0, [])
    text, confidence, chars = decoder(peaked("____", 0.8), CHARSET)
    assert (text, chars) == ("", [])
    assert confidence == pytest.approx(0.8)  # how sure the model is the line is empty


@pytest.mark.parametrize("path", ["_aa_a_bb__c c_", "abc", "a_a", "c____ ____b", "_"])
def test_beam_equals_greedy_on_peaked_logits(path: str) -> None:
    greedy = greedy_decode(peaked(path), CHARSET)
    beam = beam_decode(peaked(path), CHARSET, beam_width=5)
    assert beam[0] == greedy[0]
    assert beam[1] == pytest.approx(greedy[1])
    assert beam[2] == pytest.approx(greedy[2])


def test_beam_sums_over_alignments_where_greedy_cannot() -> None:
    # Two frames, P(a) = 0.4 each: best path is blank-blank (0.36), but "a" has
    # P = 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64 summed over its three alignments.
    logits = np.log(np.array([[0.6, 0.4, 0, 0, 0], [0.6, 0.4, 0, 0, 0]]) + 1e-12)
    assert greedy_decode(logits, CHARSET)[0] == ""
    assert beam_decode(logits, CHARSET, beam_width=4)[0] == "a"


def test_beam_width_one_and_invalid_width() -> None:
    assert beam_decode(peaked("_ab_"), CHARSET, beam_width=1)[0] == "ab"
    with pytest.raises(HwrError, match="beam width"):
        beam_decode(peaked("_ab_"), CHARSET, beam_width=0)


def test_alignment_confidences_and_infeasible_labels() -> None:
    probs = softmax(peaked("_a_a_b"))
    assert align_confidences(probs, [1, 1, 2]) == pytest.approx([0.9, 0.9, 0.9])
    assert align_confidences(probs, []) == []
    assert align_confidences(probs[:2], [1, 1, 1]) is None  # a a a needs 5 frames


def test_lexicon_snaps_words_and_keeps_digits_and_punctuation() -> None:
    lexicon = Lexicon(["The", "quick", "brown", "fox", "don't"])
    assert lexicon.snap("Teh qiuck, brwn fx 42 DONT!") == "The quick, brown fox 42 DON'T!"


def test_lexicon_ties_go_to_the_earlier_word_and_case_carries_over() -> None:
    lexicon = Lexicon(["cat", "cut", "rat"])
    assert lexicon.closest("cot") == "cat"
    assert lexicon.closest("Rot") == "Rat"
    assert lexicon.closest("cats") == "cat"


def test_lexicon_drops_words_outside_the_charset_and_refuses_empty() -> None:
    assert Lexicon(["abc", "xyz"], charset=CHARSET).snap("xyc") == "abc"
    with pytest.raises(HwrError, match="no usable words"):
        Lexicon(["123", "..."])


def test_beam_with_lexicon_snaps_and_rescores_characters() -> None:
    # Decodes to "ab ca"; the lexicon turns "ca" into "cab" and the new "b" gets a low confidence.
    logits = peaked("_a_b_ _c_a__")
    text, confidence, chars = beam_decode(logits, CHARSET, lexicon=["ab", "cab"])
    assert text == "ab cab"
    assert len(chars) == len(text)
    assert chars[:5] == pytest.approx([0.9] * 5)
    assert chars[5] < 0.1
    assert confidence == pytest.approx(np.mean(chars))


def test_decode_applies_the_lexicon_to_greedy_too() -> None:
    prediction = decode(peaked("_a_b_ _c_a__"), CHARSET, "greedy", lexicon=Lexicon(["cab", "ab"]))
    assert isinstance(prediction, Prediction)
    assert prediction.text == "ab cab"
    with pytest.raises(HwrError, match="unknown decoder"):
        decode(peaked("_a_"), CHARSET, "viterbi")


def test_a_large_lexicon_snaps_to_the_closest_word_with_stable_ties():
    import random
    import string

    from runtimes.decode import Lexicon

    rng = random.Random(0)
    filler = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 12))) for _ in range(50_000)
    ]
    lexicon = Lexicon([*filler, "handwriting", "handwritten", "zzq"])
    assert lexicon.closest("handwritinq") == "handwriting"  # one substitution
    assert lexicon.closest("Handwrittn") == "Handwritten"  # case follows the decoded word
    tie = Lexicon(["abcd", "abce", "ab"])
    assert tie.closest("abcx") == "abcd"  # equal distance and length: the word listed first
