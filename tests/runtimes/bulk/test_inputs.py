"""What the Ray engine reads: folders, path lists, Parquet and JSONL manifests."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from runtimes.bulk.inputs import expand_inputs
from runtimes.errors import HwrError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ["b.png", "a.jpg", "sub/c.png", "sub/notes.txt"]:
        (tmp_path / "lines" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "lines" / name).write_bytes(b"x")
    return tmp_path


def test_folders_lists_and_manifests_in_order_each_path_once(tree: Path) -> None:
    lines = tree / "lines"
    (tree / "list.txt").write_text("# two lines\nlines/b.png\n\n/abs/x.png\n")
    pq.write_table(
        pa.table({"path": ["lines/a.jpg", "/abs/y.png"], "n": [1, 2]}), tree / "m.parquet"
    )
    rows = [{"path": "lines/sub/c.png", "text": "hi"}, {"path": "/abs/z.png"}]
    (tree / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    paths = expand_inputs(
        [str(lines), str(tree / "list.txt"), str(tree / "m.parquet"), str(tree / "m.jsonl")]
    )
    assert paths == [
        str(lines / "a.jpg"),
        str(lines / "b.png"),
        str(lines / "sub" / "c.png"),  # the folder, sorted and recursive; no .txt
        "/abs/x.png",  # relative entries are relative to the list / manifest, repeats dropped
        "/abs/y.png",
        "/abs/z.png",
    ]


def test_a_file_that_is_not_a_list_is_an_image_to_try(tree: Path) -> None:
    assert expand_inputs([str(tree / "missing.png")]) == [str(tree / "missing.png")]


def test_a_manifest_without_a_path_column_is_one_clear_error(tree: Path) -> None:
    pq.write_table(pa.table({"file": ["a.png"]}), tree / "m.parquet")
    with pytest.raises(
        HwrError, match=r"m.parquet: the manifest has no 'path' column \(it has: file\)"
    ):
        expand_inputs([str(tree / "m.parquet")])


def test_a_damaged_manifest_or_bad_row_is_one_clear_error(tree: Path) -> None:
    (tree / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(HwrError, match="bad.parquet: cannot read the manifest"):
        expand_inputs([str(tree / "bad.parquet")])
    (tree / "m.jsonl").write_text('{"path": "a.png"}\n{"other": 3}\n')
    with pytest.raises(HwrError, match=r"m.jsonl: row 2: 'path' is not a path \(None\)"):
        expand_inputs([str(tree / "m.jsonl")])


def test_an_empty_folder_and_remote_images_are_refused(tree: Path) -> None:
    (tree / "empty").mkdir()
    with pytest.raises(HwrError, match="no images found"):
        expand_inputs([str(tree / "empty")])
    with pytest.raises(HwrError, match="only Parquet/JSONL manifests are read from a remote"):
        expand_inputs(["s3://bucket/line.png"])
