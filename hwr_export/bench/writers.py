"""Lines grouped by the hand that wrote them.

IAM-style folders (``metadata.jsonl`` rows with ``file_name`` and ``writer``) say who wrote each
line; ``open_lines`` keeps it on each sample. Accuracy is reported per writer because a split's
few writers differ far more from one another than one model's runs do; one lucky overall number
hides that.
"""

from __future__ import annotations

from collections.abc import Sequence

from hwr_export.data.sources import LineSample

UNKNOWN = "?"


def line_writers(lines: Sequence[LineSample]) -> list[str]:
    """The writer of each line, ``"?"`` where the dataset names none."""
    return [UNKNOWN if line.writer is None else line.writer for line in lines]


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
