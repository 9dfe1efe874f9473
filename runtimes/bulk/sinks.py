"""Resumable outputs: JSON lines or Parquet, keyed by the image path.

A rerun with the same output reads which paths are done and appends the rest, so a killed job
loses only the batches in flight. JSONL is appended a whole line at a time and flushed per
batch; a line cut short by a kill is dropped on resume. Parquet cannot be appended: each batch
becomes a part file in ``OUT.parts/`` (written under a temporary name, then renamed), and the
finished run merges the parts into ``OUT`` atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from runtimes.errors import HwrError, printable
from runtimes.recognizer import PathResult

if TYPE_CHECKING:
    import pyarrow as pa

OUTPUT_SUFFIXES = (".jsonl", ".parquet")


def result_key(path: str | Path) -> str:
    """How a result names its image in every output (the "file" field)."""
    return printable(str(Path(path)))


class Sink(Protocol):
    def done(self) -> set[str]:
        """Keys of the images the output holds already."""

    def write(self, results: Sequence[PathResult]) -> None:
        """Append results; they survive a kill once this returns."""

    def finish(self) -> None:
        """The run is complete."""

    def close(self) -> None:
        """Release files; what was written stays."""


def open_sink(output: Path, line_of: Callable[[PathResult], str]) -> Sink:
    """``line_of`` formats one JSONL record (the in-process engine's own format)."""
    suffix = output.suffix.lower()
    if suffix == ".jsonl":
        return JsonlSink(output, line_of)
    if suffix == ".parquet":
        return ParquetSink(output)
    raise HwrError(f"{output}: the output is .jsonl or .parquet, not {suffix or 'no suffix'!r}")


class JsonlSink:
    def __init__(self, path: Path, line_of: Callable[[PathResult], str]) -> None:
        self.path = path
        self.line_of = line_of
        self._stream: TextIO | None = None

    def done(self) -> set[str]:
        if not self.path.exists():
            return set()
        data = self.path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]  # a line cut short by a kill is redone
        if len(whole) < len(data):
            with self.path.open("r+b") as stream:
                stream.truncate(len(whole))
        keys = set()
        for number, line in enumerate(whole.decode("utf-8").splitlines(), 1):
            try:
                keys.add(json.loads(line)["file"])
            except (ValueError, KeyError, TypeError):
                raise HwrError(
                    f"{self.path}: line {number} is not an hwr result; choose another --output"
                ) from None
        return keys

    def write(self, results: Sequence[PathResult]) -> None:
        if not results:
            return
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("a", encoding="utf-8")
        self._stream.write("".join(self.line_of(r) for r in results))
        self._stream.flush()

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class ParquetSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts = path.with_name(path.name + ".parts")
        self._count = len(self._part_files())

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    def _tables(self) -> Iterator[pa.Table]:
        import pyarrow.parquet as pq

        sources = ([self.path] if self.path.exists() else []) + self._part_files()
        for source in sources:
            try:
                table = pq.read_table(source)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise HwrError(
                    f"{source}: cannot read it back ({exc}); choose another --output"
                ) from None
            yield table

    def done(self) -> set[str]:
        keys: set[str] = set()
        for table in self._tables():
            if "file" not in table.column_names:
                raise HwrError(f"{self.path}: not an hwr result table; choose another --output")
            keys.update(table.column("file").to_pylist())
        return keys

    def write(self, results: Sequence[PathResult]) -> None:
        import pyarrow.parquet as pq

        if not results:
            return
        self.parts.mkdir(parents=True, exist_ok=True)
        self._count += 1
        target = self.parts / f"part-{self._count:08d}.parquet"
        temporary = target.with_suffix(".tmp")
        pq.write_table(results_table(results), temporary)
        os.replace(temporary, target)

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = list(self._tables())
        if not tables:
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        pq.write_table(pa.concat_tables(tables), temporary)
        os.replace(temporary, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)

    def close(self) -> None:
        pass


def results_table(results: Sequence[PathResult]) -> pa.Table:
    """The Parquet columns: file, text, confidence, error, warnings (as in the JSON lines)."""
    import pyarrow as pa

    return pa.table(
        {
            "file": [result_key(r.path) for r in results],
            "text": [r.prediction.text if r.prediction else None for r in results],
            "confidence": [
                round(r.prediction.confidence, 4) if r.prediction else None for r in results
            ],
            "error": [None if r.prediction else printable(r.error or "no result") for r in results],
            "warnings": [list(r.warnings) for r in results],
        },
        schema=pa.schema(
            [
                ("file", pa.string()),
                ("text", pa.string()),
                ("confidence", pa.float64()),
                ("error", pa.string()),
                ("warnings", pa.list_(pa.string())),
            ]
        ),
    )
