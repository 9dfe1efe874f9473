"""Accuracy figures of one format: CER, WER (jiwer), and how closely it follows the original.

Error rates are corpus-level (total edits / total reference length), stored as fractions;
differences to the original are in percentage points, the unit the parity gate speaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jiwer


def edit_counts(
    references: Sequence[str], hypotheses: Sequence[str], unit: str = "char"
) -> tuple[int, int]:
    """(edits, reference length) in characters or words, summed over the corpus."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        return 0, 0
    process = jiwer.process_characters if unit == "char" else jiwer.process_words
    out = process(list(references), list(hypotheses))
    edits = out.substitutions + out.deletions + out.insertions
    return edits, out.hits + out.substitutions + out.deletions


def _rate(references: Sequence[str], hypotheses: Sequence[str], unit: str) -> float | None:
    """Edits over reference length; None when the references are all empty."""
    edits, reference_length = edit_counts(references, hypotheses, unit)
    return edits / reference_length if reference_length else None


def character_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float | None:
    return _rate(references, hypotheses, "char")


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float | None:
    return _rate(references, hypotheses, "word")


def agreement(original: Sequence[str], other: Sequence[str]) -> float:
    """Share of lines whose transcript is identical to the original model's."""
    if len(original) != len(other):
        raise ValueError(f"cannot compare {len(original)} transcripts with {len(other)}")
    if not original:
        return 1.0
    return sum(a == b for a, b in zip(original, other, strict=True)) / len(original)


def char_agreement(original: Sequence[str], other: Sequence[str]) -> float:
    """1 - CER of ``other`` against the original's transcripts (1.0 = identical characters).

    Exact-line agreement punishes long lines: at 1% of characters flipped, a 45-character
    line survives intact only ~64% of the time. This measures the flips themselves.
    """
    rate = character_error_rate(original, other)
    return 1.0 if rate is None else max(0.0, 1.0 - rate)


def points(value: float | None) -> float | None:
    """A fraction as percentage points (0.0123 -> 1.23)."""
    return None if value is None else 100.0 * value


@dataclass(frozen=True)
class Accuracy:
    cer: float | None  # fraction of reference characters in error
    wer: float | None  # fraction of reference words in error
    cer_delta_points: float | None  # cer minus the original's cer, in percentage points
    wer_delta_points: float | None
    agreement: float  # share of lines transcribed exactly as the original transcribed them
    char_agreement: float  # 1 - CER of these transcripts against the original's
    mean_confidence: float | None


def _delta_points(value: float | None, original: float | None) -> float | None:
    if value is None or original is None:
        return None
    return 100.0 * (value - original)


def score(
    references: Sequence[str],
    hypotheses: Sequence[str],
    original_hypotheses: Sequence[str],
    confidences: Sequence[float] | None = None,
) -> Accuracy:
    """All accuracy figures of one format against the ground truth and the original's output."""
    cer = character_error_rate(references, hypotheses)
    wer = word_error_rate(references, hypotheses)
    original_cer = character_error_rate(references, original_hypotheses)
    original_wer = word_error_rate(references, original_hypotheses)
    mean_conf = float(sum(confidences) / len(confidences)) if confidences else None
    return Accuracy(
        cer=cer,
        wer=wer,
        cer_delta_points=_delta_points(cer, original_cer),
        wer_delta_points=_delta_points(wer, original_wer),
        agreement=agreement(original_hypotheses, hypotheses),
        char_agreement=char_agreement(original_hypotheses, hypotheses),
        mean_confidence=mean_conf,
    )
