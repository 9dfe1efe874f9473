"""The held-out carry-over: exact on writers that lie on a line, refuses what cannot be fitted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwr_export.bench.carry_over import carry_over
from hwr_export.bench.writers import group_by_writer, line_writers
from hwr_export.data.sources import open_lines
from runtimes.errors import HwrError

ANCHOR = [2.0, 5.0, 9.0, 14.0, 30.0]
LENGTHS = [300, 500, 400, 250, 350]


def test_writers_on_a_line_carry_over_exactly() -> None:
    model = [0.7 * x - 0.5 for x in ANCHOR]
    result = carry_over(ANCHOR, model, LENGTHS, anchor_heldout=13.0, draws=200)
    assert result.slope == pytest.approx(0.7)
    assert result.intercept == pytest.approx(-0.5)
    assert result.estimate == pytest.approx(0.7 * 13.0 - 0.5)
    assert result.bootstrap == pytest.approx((result.estimate,) * 3)


def test_validation_rates_are_corpus_rates_and_simple_carry_overs_differ() -> None:
    model = [0.5 * x for x in ANCHOR]  # halves every writer's errors: proportional holds
    result = carry_over(ANCHOR, model, LENGTHS, anchor_heldout=20.0, draws=200)
    weighted = sum(x * n for x, n in zip(ANCHOR, LENGTHS, strict=True)) / sum(LENGTHS)
    assert result.anchor_validation == pytest.approx(weighted)
    assert result.model_validation == pytest.approx(weighted / 2)
    assert result.estimate == pytest.approx(10.0)
    assert result.proportional == pytest.approx(10.0)
    assert result.additive == pytest.approx(weighted / 2 + 20.0 - weighted)
    assert result.additive > result.estimate


def test_noisy_writers_widen_the_bootstrap() -> None:
    model = [1.0, 4.5, 5.0, 12.0, 20.0]
    low, mid, high = carry_over(ANCHOR, model, LENGTHS, anchor_heldout=13.0).bootstrap
    assert low < mid < high


def test_too_few_distinct_writers_is_an_error() -> None:
    with pytest.raises(HwrError, match="at least 3 writers"):
        carry_over([5.0, 5.0, 7.0], [4.0, 4.0, 6.0], [1, 1, 1], anchor_heldout=9.0)
    with pytest.raises(HwrError, match="differ in length"):
        carry_over(ANCHOR, [1.0], LENGTHS, anchor_heldout=9.0)


def test_line_writers_reads_the_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "validation"
    folder.mkdir()
    rows = [("a.png", "one line", "w1"), ("b.png", "two line", None), ("c.png", "three", "w1")]
    for name, _, _ in rows:
        (folder / name).write_bytes(b"")  # never decoded: open_lines reads images lazily
    metadata = [{"file_name": n, "text": t} | ({"writer": w} if w else {}) for n, t, w in rows]
    (folder / "metadata.jsonl").write_text("\n".join(map(json.dumps, metadata)) + "\n\n")
    lines = open_lines(str(tmp_path), "validation")
    writers = line_writers(lines)
    assert dict(zip([Path(x.name).name for x in lines], writers, strict=True)) == {
        "a.png": "w1",
        "b.png": "?",
        "c.png": "w1",
    }
    groups = group_by_writer([x.text for x in lines], ["x"] * 3, writers)
    assert groups["w1"] == (["one line", "three"], ["x", "x"])
