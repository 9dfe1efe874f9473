"""What the Ray engine reads: image paths from folders, path lists and manifests.

A folder is searched recursively for images; a ``.txt``/``.lst`` file lists one path a line
(``#`` comments and blank lines skipped); a ``.parquet``/``.jsonl`` manifest has a ``path``
column. Manifests may live on any filesystem pyarrow reads (``s3://``, ``gs://``, ``hdfs://``);
relative paths in a list or a local manifest are relative to its folder. The images themselves
are local paths that every worker node can read (a shared filesystem on a multi-node cluster).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from runtimes.errors import HwrError, printable
from runtimes.preprocess import IMAGE_SUFFIXES

LIST_SUFFIXES = (".txt", ".lst", ".list")
MANIFEST_SUFFIXES = (".parquet", ".jsonl", ".ndjson")
PATH_COLUMN = "path"


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Every image path the inputs name, in order, each once (a repeat would be read twice and
    written twice, which a resumable output keyed by path must not hold)."""
    seen: dict[str, None] = {}
    for text in inputs:
        for path in _paths_of(text):
            seen.setdefault(path, None)
    return list(seen)


def _paths_of(text: str) -> list[str]:
    suffix = Path(text).suffix.lower()
    if suffix in MANIFEST_SUFFIXES:
        return read_manifest(text)
    if "://" in text:
        raise HwrError(
            f"{text}: only Parquet/JSONL manifests are read from a remote filesystem; "
            "the images are local paths (shared by every node)"
        )
    path = Path(text)
    if path.is_dir():
        found = sorted(
            str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not found:
            raise HwrError(f"{printable(text)}: no images found")
        return found
    if suffix in LIST_SUFFIXES:
        return read_path_list(path)
    return [str(path)]  # an image; a missing or bad one becomes an error in the output


def read_path_list(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HwrError(f"{printable(str(path))}: cannot read the path list ({exc})") from None
    entries = [line.strip() for line in lines]
    return [_relative_to(path.parent, e) for e in entries if e and not e.startswith("#")]


def read_manifest(uri: str) -> list[str]:
    """The ``path`` column of a Parquet or JSONL manifest, local or remote."""
    import pyarrow as pa
    import pyarrow.fs
    import pyarrow.json
    import pyarrow.parquet as pq

    try:
        filesystem, where = pyarrow.fs.FileSystem.from_uri(
            uri if "://" in uri else str(Path(uri).absolute())
        )
        if Path(where).suffix.lower() == ".parquet":
            table = pq.read_table(where, filesystem=filesystem)
        else:
            with filesystem.open_input_stream(where) as stream:
                table = pyarrow.json.read_json(stream)
    except (OSError, pa.ArrowException) as exc:
        raise HwrError(f"{uri}: cannot read the manifest ({_first_line(exc)})") from None
    if PATH_COLUMN not in table.column_names:
        columns = ", ".join(table.column_names) or "none"
        raise HwrError(f"{uri}: the manifest has no {PATH_COLUMN!r} column (it has: {columns})")
    paths = table.column(PATH_COLUMN).to_pylist()
    bad = next((i for i, p in enumerate(paths) if not isinstance(p, str) or not p), None)
    if bad is not None:
        raise HwrError(f"{uri}: row {bad + 1}: {PATH_COLUMN!r} is not a path ({paths[bad]!r})")
    base = Path(uri).parent if "://" not in uri else None
    return [_relative_to(base, p) if base is not None else p for p in paths]


def _relative_to(base: Path, entry: str) -> str:
    path = Path(entry)
    return str(path if path.is_absolute() else base / path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
