"""Lines grouped by the hand that wrote them.

IAM-style folders (``metadata.jsonl`` rows with ``file_name`` and ``writer``) say who wrote each
line. Accuracy is reported per writer because a split's few writers differ far more from one
another than one model's runs do; one lucky overall number hides that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hwr_export.data.sources import LineSample

UNKNOWN = "?"


def line_writers(data: str, split: str, lines: Sequence[LineSample]) -> list[str]:
    """The writer of each line, ``"?"`` where the metadata names none (or there is none)."""
    meta = Path(data) / split / "metadata.jsonl"
    if not meta.is_file():
        return [UNKNOWN] * len(lines)
    rows = [json.loads(text) for text in meta.read_text().splitlines() if text.strip()]
    writer_of = {row["file_name"]: str(row.get("writer", UNKNOWN)) for row in rows}
    return [writer_of.get(Path(line.name).name, UNKNOWN) for line in lines]


def group_by_writer(
    references: Sequence[str], texts: Sequence[str], writers: Sequence[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """writer -> (its references, the transcripts of the same lines), in line order."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for reference, text, writer in zip(references, texts, writers, strict=True):
        pair = groups.setdefault(writer, ([], []))
        pair[0].append(reference)
        pair[1].append(text)
    return groups
