"""`hwr lm build`: a word n-gram model (ARPA) from a user's own text, e.g. an archive's names and
spellings. Each non-empty line of the text files is one sentence (or line of text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from hwr_export.lm.arpa import NgramCounts, estimate, write_arpa
from runtimes.errors import HwrError
from runtimes.lm import lm_words


def read_lines(paths: list[Path]) -> Iterator[list[str]]:
    for path in paths:
        try:
            with path.open(encoding="utf-8") as stream:
                for line in stream:
                    words = lm_words(line)
                    if words:
                        yield words
        except (OSError, UnicodeDecodeError) as exc:
            raise HwrError(f"{path}: cannot read text ({exc})") from None


def read_word_list(path: Path) -> dict[str, float]:
    """word<TAB>frequency lines (``#`` comments), as in data/text/words-en.tsv."""
    words: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, _, freq = line.partition("\t")
            for token in lm_words(word):
                words[token] = words.get(token, 0.0) + float(freq or 1)
    return words


def build_lm(
    texts: list[Path], out: Path, order: int = 3, min_count: int = 1
) -> tuple[int, list[int]]:
    """Write an ARPA model; return the number of sentences and of n-grams per order."""
    from hwr_export.atomic import Outputs

    counts = NgramCounts.from_sentences(read_lines(texts), order=order)
    sentences = counts.counts[0][("<s>",)] if counts.counts[0] else 0
    if not sentences:
        raise HwrError("no words found in the text files (words are runs of letters)")
    model = estimate(counts, min_count=min_count)
    with Outputs(force=True) as outputs:
        write_arpa(model, outputs.stage(out))
    return sentences, [len(level) for level in model.entries]
