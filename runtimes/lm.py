"""Word n-gram language-model decoding: CTC prefix beam search scored by a KenLM model.

    lm = LanguageModel.load("en")                  # the bundled English model, or a path to
    text, confidence, char_conf = lm.decode(logits, charset)    # an ARPA / KenLM binary file

A beam's score is ``log P_ctc(prefix) + alpha * ln P_lm(words) + beta * len(words)``. Words are
runs of letters with inner apostrophes, lowercased (``lm_words``); a word is scored when the
character after it (a space, punctuation, a digit) or the end of the line completes it, so
digits and punctuation cost nothing in the LM. A word the LM does not know also pays
``oov_penalty``. KenLM (``pip install 'hwr[lm]'``) reads and scores the model; the search is
written here because pyctcdecode, the usual library for it, pins numpy < 2.
"""

from __future__ import annotations

import heapq
import importlib
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from runtimes.decode import (
    BLANK,
    Lexicon,
    Prediction,
    align_confidences,
    logaddexp,
    snap_to_lexicon,
    softmax,
)
from runtimes.errors import HwrError, RuntimeUnavailableError

NEG_INF = float("-inf")
_LmState = tuple[float, tuple[str, ...], str, float]
LN10 = math.log(10.0)
INSTALL_HINT = "pip install 'hwr[lm]'"
BUNDLED = {"en": Path(__file__).parent / "data" / "lm-en.binary"}
CACHE_LIMIT = 500_000  # scored (context, word) pairs kept between lines
LM_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def lm_words(text: str) -> list[str]:
    """The words a language model sees in ``text``: letters with inner apostrophes, lowercased.
    Corpora are tokenized by the same function when a model is built (``hwr lm build``)."""
    return [word.lower() for word in LM_WORD.findall(text)]


def _is_word_char(ch: str) -> bool:
    return ch.isalpha() or ch == "'"


def require_kenlm() -> ModuleType:
    try:
        return importlib.import_module("kenlm")  # typed as a module: kenlm has no stubs
    except ImportError:
        raise RuntimeUnavailableError(
            f"language-model decoding needs KenLM, which is not installed: {INSTALL_HINT}"
        ) from None


@dataclass(frozen=True)
class LmWeights:
    """How much the language model counts against the optical model (chosen on IAM validation,
    see README "Language-model decoding")."""

    alpha: float = 0.5  # weight of ln P_lm
    beta: float = 2.0  # bonus per word, against the LM's preference for fewer words
    oov_penalty: float = 2.0  # extra cost (natural log) of a word the LM does not know
    beam_width: int = 32  # 16 read 0.3 CER / 1 WER point worse; 48 won 0.1 / 0.4 for +40% time
    min_char_logp: float = -4.0  # characters below this log-probability in a frame are skipped
    beam_prune: float = 10.0  # beams this far (natural log) below the best are dropped


class LanguageModel:
    """A KenLM word model and the prefix beam search that uses it.

    ``predict`` may be called from several threads (a Recognizer decodes each batch in the
    thread that ran it); the score caches are shared, so one line is decoded at a time.
    """

    def __init__(self, model: Any, source: str, weights: LmWeights | None = None) -> None:
        self._lock = threading.Lock()
        self.model = model
        self.source = source
        self._kenlm = require_kenlm()
        self._start = self._kenlm.State()
        model.NullContextWrite(self._start)  # lines start mid-sentence: no <s>
        self.weights = weights or LmWeights()

    @property
    def weights(self) -> LmWeights:
        return self._weights

    @weights.setter
    def weights(self, weights: LmWeights) -> None:
        """New weights; the scores cached under the old ones are dropped."""
        if weights.beam_width < 1:
            raise HwrError(f"beam width must be at least 1, got {weights.beam_width}")
        self._weights = weights
        self._clear_caches()

    def _clear_caches(self) -> None:
        self._word_cache: dict[tuple[tuple[str, ...], str], tuple[float, tuple[str, ...]]] = {}
        self._pending_cache: dict[tuple[tuple[str, ...], str], tuple[float, tuple[str, ...]]] = {}
        self._states: dict[tuple[str, ...], Any] = {(): self._start}

    @classmethod
    def load(cls, name_or_path: str | Path, weights: LmWeights | None = None) -> LanguageModel:
        """``"en"`` (bundled) or an ARPA / KenLM binary file; a bad file is a one-line HwrError."""
        kenlm = require_kenlm()
        path = BUNDLED.get(str(name_or_path), Path(name_or_path))
        if not path.is_file():
            known = ", ".join(BUNDLED)
            raise HwrError(f"{path}: no such language model file (bundled: {known})")
        try:
            with path.open("rb") as stream:
                head = stream.read(64)
        except OSError as exc:
            raise HwrError(f"{path}: cannot read language model ({exc.strerror})") from None
        # KenLM reads anything that starts like ARPA or its binary format; refuse the rest early,
        # since its own parser can abort on garbage.
        if not (head.lstrip().startswith(b"\\data\\") or head.startswith(b"mmap lm ")):
            raise HwrError(f"{path}: not an ARPA or KenLM binary language model")
        config = kenlm.Config()
        config.show_progress = False  # KenLM draws a progress bar on stderr otherwise
        try:
            model = kenlm.Model(str(path), config)
        except (OSError, RuntimeError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise HwrError(f"{path}: cannot load language model ({reason[:200]})") from None
        return cls(model, str(path), weights)

    @property
    def order(self) -> int:
        return int(self.model.order)

    def __contains__(self, word: str) -> bool:
        return word in self.model

    def word_score(self, context: tuple[str, ...], word: str) -> tuple[float, tuple[str, ...]]:
        """alpha * ln P(word | context) + beta (+ the OOV penalty), and the next context."""
        key = (context, word)
        hit = self._word_cache.get(key)
        if hit is not None:
            return hit
        w = self.weights
        out = self._kenlm.State()
        log10_p = self.model.BaseScore(self._states[context], word, out)
        score = w.alpha * log10_p * LN10 + w.beta
        if word not in self.model:
            score -= w.oov_penalty
        following = (context + (word,))[-(self.order - 1) :] if self.order > 1 else ()
        self._states.setdefault(following, out)
        self._word_cache[key] = (score, following)
        return score, following

    def _complete(self, context: tuple[str, ...], pending: str) -> tuple[float, tuple[str, ...]]:
        """The LM score of the words in ``pending`` after ``context``, and the context after."""
        key = (context, pending)
        hit = self._pending_cache.get(key)
        if hit is None:
            score = 0.0
            for word in lm_words(pending):
                gained, context = self.word_score(context, word)
                score += gained
            hit = self._pending_cache[key] = (score, context)
        return hit

    def decode(self, logits: np.ndarray, charset: str) -> tuple[str, float, list[float]]:
        """(T, C) logits to (text, line confidence, character confidences)."""
        probs = softmax(np.asarray(logits, dtype=np.float64))
        if len(probs) == 0:
            return "", 0.0, []
        if len(self._pending_cache) > CACHE_LIMIT:  # a long-running server stays bounded
            self._clear_caches()
        labels = self._search(np.log(np.maximum(probs, 1e-30)), charset)
        text = "".join(charset[c - 1] for c in labels)
        char_conf = align_confidences(probs, labels) or [0.0] * len(labels)
        confidence = float(np.mean(char_conf)) if char_conf else float(probs[:, BLANK].mean())
        return text, confidence, char_conf

    def predict(
        self, logits: np.ndarray, charset: str, lexicon: Lexicon | None = None
    ) -> Prediction:
        """One line's Prediction; a lexicon snaps the words the search found."""
        with self._lock:
            text, confidence, char_conf = self.decode(logits, charset)
        if lexicon is not None and text:
            probs = softmax(np.asarray(logits, dtype=np.float64))
            text, char_conf = snap_to_lexicon(text, char_conf, probs, charset, lexicon)
            confidence = float(np.mean(char_conf)) if char_conf else confidence
        return Prediction(text, confidence, char_conf)

    def _search(self, log_probs: np.ndarray, charset: str) -> tuple[int, ...]:
        """Prefix beam search: acoustic log P(ends in blank), log P(ends in a label) per prefix,
        ranked with the LM score of its words (kept per prefix in ``lm``)."""
        width, prune = self.weights.beam_width, self.weights.beam_prune
        word_char = [False] + [_is_word_char(ch) for ch in charset]
        # prefix -> (LM score of its completed words, their LM context, the word being spelled,
        # the LM score of the whole prefix as if that word ended here: what beams are ranked by,
        # so that a beam cannot dodge the LM by leaving out spaces)
        lm: dict[tuple[int, ...], _LmState] = {(): (0.0, (), "", 0.0)}
        beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
        likely = log_probs[:, 1:] > self.weights.min_char_logp
        ranked = np.argsort(-log_probs[:, 1:], axis=1, kind="stable")[:, :width]
        for t, frame in enumerate(log_probs.tolist()):
            blank = frame[BLANK]
            candidates = [c + 1 for c in ranked[t].tolist() if likely[t, c]]
            totals = {prefix: logaddexp(p_b, p_l) for prefix, (p_b, p_l) in beams.items()}
            # Every beam may stay as it is: a blank, or its last label repeated.
            grown = {
                prefix: [totals[prefix] + blank, p_l + frame[prefix[-1]] if prefix else NEG_INF]
                for prefix, (_, p_l) in beams.items()
            }
            if not candidates:  # a blank frame: no new prefix
                beams = {prefix: (b, n) for prefix, (b, n) in grown.items()}
                continue
            # A new character that leaves its beam this far below the best beam is not tried.
            floor = max(total + lm[p][3] for p, total in totals.items()) - prune
            for prefix, (p_b, _) in beams.items():
                total = totals[prefix]
                reach = floor - total - lm[prefix][3]
                last = prefix[-1] if prefix else None
                for c in candidates:
                    if frame[c] < reach:
                        break  # candidates come most likely first
                    # A repeated label is a new one only after a blank.
                    score = (p_b if c == last else total) + frame[c]
                    extended = (*prefix, c)
                    entry = grown.get(extended)
                    if entry is None:
                        grown[extended] = [NEG_INF, score]
                        if extended not in lm:
                            lm[extended] = self._extend(lm[prefix], charset[c - 1], word_char[c])
                    else:
                        entry[1] = logaddexp(entry[1], score)
            scored = [(logaddexp(b, n) + lm[p][3], p, b, n) for p, (b, n) in grown.items()]
            best = heapq.nlargest(width, scored, key=lambda item: item[0])
            beams = {p: (b, n) for score, p, b, n in best if score >= best[0][0] - prune}

        return max(beams, key=lambda prefix: logaddexp(*beams[prefix]) + lm[prefix][3])

    def _extend(self, state: _LmState, ch: str, is_word_char: bool) -> _LmState:
        completed, context, pending, _ = state
        if is_word_char:
            pending += ch
            return completed, context, pending, completed + self._complete(context, pending)[0]
        if not pending:
            return state
        gained, context = self._complete(context, pending)
        return completed + gained, context, "", completed + gained
