"""Resumable outputs: what a killed run wrote is read back, a cut line is redone."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from runtimes.bulk.sinks import open_sink
from runtimes.decode import Prediction
from runtimes.errors import HwrError
from runtimes.recognizer import PathResult


def line_of(result: PathResult) -> str:
    record = {
        "file": str(result.path),
        "text": result.prediction.text if result.prediction else None,
    }
    return json.dumps(record) + "\n"


def results(*names: str) -> list[PathResult]:
    return [PathResult(Path(n), Prediction(n.upper(), 0.5)) for n in names]


def test_jsonl_appends_and_drops_a_line_cut_by_a_kill(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    sink = open_sink(out, line_of)
    assert sink.done() == set()
    sink.write(results("a", "b"))
    sink.close()
    with out.open("a") as stream:
        stream.write('{"file": "c", "te')  # killed mid-line
    again = open_sink(out, line_of)
    assert again.done() == {"a", "b"}
    again.write(results("c"))
    again.finish()
    assert [json.loads(line)["file"] for line in out.read_text().splitlines()] == ["a", "b", "c"]


def test_jsonl_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("hello\n")
    with pytest.raises(HwrError, match="line 1 is not an hwr result"):
        open_sink(out, line_of).done()


def test_parquet_parts_survive_a_kill_and_merge_when_done(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    sink = open_sink(out, line_of)
    sink.write(results("a", "b"))
    sink.write([PathResult(Path("bad"), None, "bad: cannot read image", ("w",))])
    # killed here: no finish, the parts hold the results
    assert not out.exists() and len(list((tmp_path / "out.parquet.parts").iterdir())) == 2
    again = open_sink(out, line_of)
    assert again.done() == {"a", "b", "bad"}
    again.write(results("c"))
    again.finish()
    table = pq.read_table(out)
    assert table.column("file").to_pylist() == ["a", "b", "bad", "c"]
    assert table.column("text").to_pylist() == ["A", "B", None, "C"]
    assert table.column("error").to_pylist()[2] == "bad: cannot read image"
    assert table.column("warnings").to_pylist()[2] == ["w"]
    assert not (tmp_path / "out.parquet.parts").exists()
    assert open_sink(out, line_of).done() == {"a", "b", "bad", "c"}  # a finished run reruns empty


def test_other_output_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(HwrError, match=r"\.jsonl or \.parquet, not '\.csv'"):
        open_sink(tmp_path / "out.csv", line_of)
