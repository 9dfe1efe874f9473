"""Interpolated Kneser-Ney word n-gram models, written as ARPA files for KenLM to load.

KenLM's own estimator (lmplz) is not on PyPI, and the pip-installable builders we found do not
write normalized Kneser-Ney backoff models, so this is a small, tested one (Chen & Goodman 1998,
one discount per order, D = n1 / (n1 + 2 n2)). Pruning drops n-grams seen fewer than
``min_count`` times and recomputes the backoff weights, so every context's distribution still
sums to one (the SRILM way). Sentences are tokenized with ``runtimes.lm.lm_words``, the same
function the decoder applies to what it reads.

    counts = NgramCounts.from_sentences(sentences, order=3)
    write_arpa(estimate(counts, min_count=2), "model.arpa")
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
NO_PROB = -99.0  # log10 "probability" of <s>, which is never predicted


@dataclass
class NgramCounts:
    order: int
    counts: list[Counter[tuple[str, ...]]]  # counts[n - 1]: raw counts of the n-grams

    @classmethod
    def from_sentences(cls, sentences: Iterable[list[str]], order: int = 3) -> NgramCounts:
        if not 1 <= order <= 6:
            raise ValueError(f"order must be within 1..6, got {order}")
        counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
        for words in sentences:
            if not words:
                continue
            padded = (BOS, *words, EOS)
            for n in range(1, order + 1):
                grams = counts[n - 1]
                for i in range(len(padded) - n + 1):
                    grams[padded[i : i + n]] += 1
        return cls(order, counts)


@dataclass
class ArpaModel:
    order: int
    # entries[n - 1]: n-gram -> (log10 probability, log10 backoff weight or None)
    entries: list[dict[tuple[str, ...], tuple[float, float | None]]]


def _discount(counts: Iterable[int]) -> float:
    spectrum = Counter(c for c in counts if c <= 2)
    n1, n2 = spectrum[1], spectrum[2]
    return n1 / (n1 + 2 * n2) if n1 and n2 else 0.5


def _adjusted_counts(counts: NgramCounts) -> list[Counter[tuple[str, ...]]]:
    """Raw counts at the top order and for n-grams starting with <s>; below the top, the number
    of distinct words seen before the n-gram (its continuation count)."""
    adjusted: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(counts.order)]
    adjusted[-1] = Counter(counts.counts[-1])
    for n in range(counts.order - 1, 0, -1):
        lower = adjusted[n - 1]
        for gram in counts.counts[n]:
            lower[gram[1:]] += 1
        for gram, raw in counts.counts[n - 1].items():
            if gram[0] == BOS:
                lower[gram] = raw
    return adjusted


def estimate(
    counts: NgramCounts,
    min_count: int | Sequence[int] = 1,
    extra_words: Mapping[str, float] | None = None,
    extra_weight: float = 0.5,
) -> ArpaModel:
    """Interpolated Kneser-Ney, pruned to n-grams (n >= 2) seen at least ``min_count`` times
    (one count for every order, or one per order from bigrams up, e.g. ``(2, 3)``).

    ``extra_words`` (word -> frequency, e.g. a large frequency list) widens the vocabulary: the
    unigram distribution becomes ``(1 - extra_weight) * KN + extra_weight * frequencies``.
    """
    if isinstance(min_count, int):
        min_count = [min_count] * (counts.order - 1)
    if len(min_count) != counts.order - 1:
        raise ValueError(f"need {counts.order - 1} minimum counts (orders 2..{counts.order})")
    adjusted = _adjusted_counts(counts)
    vocab = {g[0] for g in adjusted[0]} - {BOS}
    extra: dict[str, float] = {}
    if extra_words:
        total = sum(extra_words.values())
        extra = {w: f / total for w, f in extra_words.items() if f > 0}
        vocab |= set(extra)
    vocab.add(UNK)
    # Unigrams: discounted continuation counts, the rest spread evenly over the vocabulary.
    d1 = _discount(adjusted[0].values())
    total1 = sum(c for g, c in adjusted[0].items() if g[0] != BOS)
    left = d1 * sum(1 for g in adjusted[0] if g[0] != BOS) / total1
    unigram = {w: max(adjusted[0].get((w,), 0) - d1, 0) / total1 + left / len(vocab) for w in vocab}
    if extra:
        unigram = {
            w: (1 - extra_weight) * p + extra_weight * extra.get(w, 0.0) for w, p in unigram.items()
        }
    probs: list[dict[tuple[str, ...], float]] = [{(w,): p for w, p in unigram.items()}]
    for n in range(2, counts.order + 1):
        grams = adjusted[n - 1]
        discount = _discount(grams.values())
        context_total: defaultdict[tuple[str, ...], int] = defaultdict(int)
        context_types: defaultdict[tuple[str, ...], int] = defaultdict(int)
        for gram, c in grams.items():
            context_total[gram[:-1]] += c
            context_types[gram[:-1]] += 1
        raw = counts.counts[n - 1]
        level: dict[tuple[str, ...], float] = {}
        for gram, c in grams.items():
            if raw[gram] < min_count[n - 2]:
                continue
            h = gram[:-1]
            gamma = discount * context_types[h] / context_total[h]
            lower = _prob(probs, gram[1:])
            level[gram] = max(c - discount, 0) / context_total[h] + gamma * lower
        probs.append(level)
    return _with_backoffs(counts.order, probs)


def _prob(probs: list[dict[tuple[str, ...], float]], gram: tuple[str, ...]) -> float:
    """The probability that the model being built gives the last word of ``gram`` after the
    rest, backing off with the interpolation weights of lower orders (used while estimating)."""
    for start in range(len(gram)):
        p = probs[len(gram) - start - 1].get(gram[start:])
        if p is not None:
            return p
    return probs[0][(UNK,)]


def _with_backoffs(order: int, probs: list[dict[tuple[str, ...], float]]) -> ArpaModel:
    """Backoff weights that make each context's distribution sum to one over the kept n-grams:
    bow(h) = (1 - sum of kept p(w|h)) / (1 - sum of the backed-off p(w|h[1:]) of those w)."""
    # Every prefix of a kept n-gram must exist as an entry (KenLM requires it).
    for n in range(order, 1, -1):
        for gram in list(probs[n - 1]):
            if gram[:-1] not in probs[n - 2]:
                probs[n - 2][gram[:-1]] = _prob(probs[: n - 1], gram[:-1])
    probs[0].setdefault((BOS,), 0.0)
    backoff: list[dict[tuple[str, ...], float]] = [{} for _ in range(order)]
    for n in range(2, order + 1):
        kept: defaultdict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
        for gram in probs[n - 1]:
            kept[gram[:-1]].append(gram)
        for h, grams in kept.items():
            numerator = 1.0 - sum(probs[n - 1][g] for g in grams)
            denominator = 1.0 - sum(_backed_off(probs, backoff, g[1:]) for g in grams)
            backoff[n - 2][h] = max(numerator, 1e-12) / max(denominator, 1e-12)
    entries = []
    for n in range(1, order + 1):
        level = {}
        for gram, p in probs[n - 1].items():
            log_p = NO_PROB if gram == (BOS,) else math.log10(p)
            bow = math.log10(backoff[n - 1].get(gram, 1.0)) if n < order else None
            level[gram] = (log_p, bow)
        entries.append(level)
    return ArpaModel(order, entries)


def _backed_off(
    probs: list[dict[tuple[str, ...], float]],
    backoff: list[dict[tuple[str, ...], float]],
    gram: tuple[str, ...],
) -> float:
    """p(w | h) in the finished backoff model, for orders whose weights are already known."""
    p = probs[len(gram) - 1].get(gram)
    if p is not None:
        return p
    if len(gram) == 1:
        return probs[0][(UNK,)]
    return backoff[len(gram) - 2].get(gram[:-1], 1.0) * _backed_off(probs, backoff, gram[1:])


def write_arpa(model: ArpaModel, path: str | Path) -> None:
    """The ARPA text format; unigrams first, each order sorted for reproducible files."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n\\data\\\n")
        for n, level in enumerate(model.entries, 1):
            out.write(f"ngram {n}={len(level)}\n")
        for n, level in enumerate(model.entries, 1):
            out.write(f"\n\\{n}-grams:\n")
            for gram in sorted(level):
                log_p, bow = level[gram]
                words = " ".join(gram)
                if bow is None or (bow == 0.0 and n > 1):
                    out.write(f"{log_p:.6f}\t{words}\n")
                else:
                    out.write(f"{log_p:.6f}\t{words}\t{bow:.6f}\n")
        out.write("\n\\end\\\n")
