"""Real English sentences (not LOB) for synthetic lines: ``draw_sentences(5, seed=0)``.

30,000 sentences sampled from public-domain texts (US State of the Union addresses 1790-2021 and
Melville's Moby Dick), cleaned to the IAM character set; sources, licences and the rebuild
command are in ``data/text/SOURCES.md`` and ``hwr_export.lm.sources``.
"""

from __future__ import annotations

import functools
import gzip
import random
from pathlib import Path

SENTENCES = Path(__file__).parent / "text" / "sentences-en.txt.gz"


@functools.cache
def load_sentences() -> tuple[str, ...]:
    with gzip.open(SENTENCES, "rt", encoding="utf-8") as stream:
        return tuple(line.strip() for line in stream if line.strip())


def draw_sentences(count: int, seed: int | None = None) -> list[str]:
    """``count`` sentences drawn at random (with replacement), reproducibly for a given seed."""
    sentences = load_sentences()
    rng = random.Random(seed)
    return [rng.choice(sentences) for _ in range(count)]
