"""CTC logits to text, numpy only, written once and shared by every runtime.

Confidences: a character's confidence is the highest probability its class reaches over the frames
that spell it (its run in the greedy path, its Viterbi-aligned frames otherwise). A line's
confidence is the mean of its characters' confidences; an empty line's is the mean blank
probability, i.e. how sure the model is that there is nothing to read (0.0 without any frame).

Lexicon (word list) constraint, by *snapping*: each word of the decoded line (a run of letters,
inner apostrophes allowed) is replaced by the closest lexicon word by case-insensitive edit
distance (ties: nearest length, then earlier in the list, so order lists by frequency); digits,
punctuation and spaces are kept. Capitalization of the decoded word carries over. Character
confidences are then recomputed by aligning the snapped text to the logits.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from runtimes.errors import HwrError

BLANK = 0
NEG_INF = float("-inf")
MIN_CANDIDATE_LOGP = math.log(1e-3)  # beam search skips characters below 0.1 % in a frame
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass
class Prediction:
    text: str
    confidence: float  # mean of char_confidences (see the module docstring)
    char_confidences: list[float] = field(default_factory=list)  # one per character of text


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    probs: np.ndarray = exp / np.sum(exp, axis=axis, keepdims=True)
    return probs


def _line_confidence(char_confidences: list[float], probs: np.ndarray) -> float:
    if char_confidences:
        return float(np.mean(char_confidences))
    return float(probs[:, BLANK].mean()) if len(probs) else 0.0


def _labels_to_text(labels: Iterable[int], charset: str) -> str:
    return "".join(charset[c - 1] for c in labels)


def greedy_decode(logits: np.ndarray, charset: str) -> tuple[str, float, list[float]]:
    """Best class per frame, repeats collapsed, blanks dropped."""
    probs = softmax(np.asarray(logits, dtype=np.float64))
    if len(probs) == 0:
        return "", 0.0, []
    best = probs.argmax(axis=1)
    starts = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    run_class = best[starts]
    run_conf = np.maximum.reduceat(probs.max(axis=1), starts)
    keep = run_class != BLANK
    text = _labels_to_text(run_class[keep].tolist(), charset)
    char_conf = [float(c) for c in run_conf[keep]]
    return text, _line_confidence(char_conf, probs), char_conf


def logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _add(
    grown: dict[tuple[int, ...], list[float]], prefix: tuple[int, ...], blank: float, label: float
) -> None:
    entry = grown.setdefault(prefix, [NEG_INF, NEG_INF])
    entry[0] = logaddexp(entry[0], blank)
    entry[1] = logaddexp(entry[1], label)


def _prefix_beam_search(log_probs: np.ndarray, beam_width: int) -> tuple[int, ...]:
    """CTC prefix beam search; each prefix keeps log P(ends in blank), log P(ends in its label)."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    top = np.argsort(-log_probs, axis=1, kind="stable")[:, : beam_width + 1].tolist()
    for t, frame in enumerate(log_probs.tolist()):  # python floats: numpy scalars are slow here
        candidates = [c for c in top[t] if c != BLANK and frame[c] > MIN_CANDIDATE_LOGP]
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = logaddexp(p_blank, p_label)
            _add(grown, prefix, total + frame[BLANK], NEG_INF)
            last = prefix[-1] if prefix else None
            if last is not None:  # the last label repeated without a blank stays one label
                _add(grown, prefix, NEG_INF, p_label + frame[last])
            for c in candidates:
                # A repeat only makes a new label after a blank.
                source = p_blank if c == last else total
                _add(grown, prefix + (c,), NEG_INF, source + frame[c])
        ranked = heapq.nlargest(beam_width, grown.items(), key=lambda kv: logaddexp(*kv[1]))
        beams = {prefix: (b, n) for prefix, (b, n) in ranked}
    return max(beams.items(), key=lambda kv: logaddexp(*kv[1]))[0]


def align_confidences(probs: np.ndarray, labels: Sequence[int]) -> list[float] | None:
    """Per-label confidence along the most likely CTC alignment (Viterbi) of ``labels``;
    None if the labels cannot fit in the frames."""
    labels = list(labels)
    if not labels:
        return []
    frames = len(probs)
    states = np.zeros(2 * len(labels) + 1, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    states[1::2] = labels
    skip_ok = np.zeros(len(states), dtype=bool)  # may jump from s-2: label differs from s-2's
    skip_ok[3::2] = states[3::2] != states[1:-2:2]
    emit = np.log(np.maximum(probs[:, states], 1e-30))
    score = np.full(len(states), NEG_INF)
    score[:2] = emit[0, :2]
    moves = np.zeros((frames, len(states)), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, frames):
        options = np.full((3, len(states)), NEG_INF)
        options[0] = score
        options[1, 1:] = score[:-1]
        options[2, 2:] = np.where(skip_ok[2:], score[:-2], NEG_INF)
        moves[t] = options.argmax(axis=0)
        score = options.max(axis=0) + emit[t]
    end = len(states) - 1 if score[-1] >= score[-2] else len(states) - 2
    if score[end] == NEG_INF or not np.isfinite(score[end]):
        return None
    best = [0.0] * len(labels)
    state = end
    for t in range(frames - 1, -1, -1):
        if state % 2 == 1:
            k = state // 2
            best[k] = max(best[k], float(probs[t, labels[k]]))
        state -= int(moves[t, state])
    return best


class Lexicon:
    """A word list for snapping decoded words (see the module docstring)."""

    def __init__(self, words: Iterable[str], charset: str | None = None) -> None:
        self.spelling: dict[str, str] = {}
        for entry in words:
            for word in WORD.findall(entry):
                if charset is None or all(ch in charset for ch in word):
                    self.spelling.setdefault(word.lower(), word)
        if not self.spelling:
            raise HwrError("the lexicon has no usable words")
        self._keys = list(self.spelling)  # in first-listed order, for tie-breaking
        self._cache: dict[str, str] = {}

    def closest(self, word: str) -> str:
        key = word.lower()
        if key not in self._cache:
            self._cache[key] = self.spelling[self._nearest_key(key)]
        return _match_case(self._cache[key], word)

    def _nearest_key(self, key: str) -> str:
        """The closest word by edit distance; ties go to the closest length, then the word
        listed first. rapidfuzz scans the word list in C++ (200,000 words: milliseconds)."""
        if key in self.spelling:
            return key
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        keys = self._keys
        _, best, _ = process.extractOne(key, keys, scorer=Levenshtein.distance)
        tied = process.extract(
            key, keys, scorer=Levenshtein.distance, score_cutoff=best, limit=None
        )
        return min(tied, key=lambda hit: (abs(len(hit[0]) - len(key)), hit[2]))[0]

    def snap(self, text: str) -> str:
        return WORD.sub(lambda m: self.closest(m.group(0)), text)


def _match_case(word: str, decoded: str) -> str:
    if word.islower() and decoded[:1].isupper():
        return word.upper() if len(decoded) > 1 and decoded.isupper() else word.capitalize()
    return word


def beam_decode(
    logits: np.ndarray,
    charset: str,
    beam_width: int = 10,
    lexicon: Lexicon | Sequence[str] | None = None,
) -> tuple[str, float, list[float]]:
    """CTC prefix beam search, optionally snapped to a lexicon."""
    if beam_width < 1:
        raise HwrError(f"beam width must be at least 1, got {beam_width}")
    probs = softmax(np.asarray(logits, dtype=np.float64))
    if len(probs) == 0:
        return "", 0.0, []
    labels = _prefix_beam_search(np.log(np.maximum(probs, 1e-30)), beam_width)
    text = _labels_to_text(labels, charset)
    char_conf = align_confidences(probs, labels) or [0.0] * len(labels)
    if lexicon is not None:
        text, char_conf = snap_to_lexicon(text, char_conf, probs, charset, lexicon)
    return text, _line_confidence(char_conf, probs), char_conf


def snap_to_lexicon(
    text: str,
    char_confidences: list[float],
    probs: np.ndarray,
    charset: str,
    lexicon: Lexicon | Sequence[str],
) -> tuple[str, list[float]]:
    """Snap ``text`` to the lexicon; keep the original if the snapped text cannot be aligned."""
    if not isinstance(lexicon, Lexicon):
        lexicon = Lexicon(lexicon, charset)
    snapped = lexicon.snap(text)
    if snapped == text:
        return text, char_confidences
    index = {ch: i + 1 for i, ch in enumerate(charset)}
    if any(ch not in index for ch in snapped):  # e.g. a capital the charset lacks
        return text, char_confidences
    aligned = align_confidences(probs, [index[ch] for ch in snapped])
    return (snapped, aligned) if aligned is not None else (text, char_confidences)


def decode(
    logits: np.ndarray,
    charset: str,
    method: str = "greedy",
    beam_width: int = 10,
    lexicon: Lexicon | Sequence[str] | None = None,
) -> Prediction:
    """One line's (T, C) logits to a Prediction; a lexicon applies to greedy decoding too."""
    if method == "beam":
        return Prediction(*beam_decode(logits, charset, beam_width, lexicon))
    if method != "greedy":
        raise HwrError(f"unknown decoder {method!r}; choose greedy or beam")
    text, confidence, char_conf = greedy_decode(logits, charset)
    if lexicon is not None and text:
        probs = softmax(np.asarray(logits, dtype=np.float64))
        text, char_conf = snap_to_lexicon(text, char_conf, probs, charset, lexicon)
        confidence = _line_confidence(char_conf, probs)
    return Prediction(text, confidence, char_conf)
