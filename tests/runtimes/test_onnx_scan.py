"""The protobuf walker of runtimes.onnx_scan on hand-made bytes (real exports: test_quantize)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtimes.onnx_scan import WireError, fields, read_graph_summary, summarize_graph


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def message(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def model(ops: list[str], types: list[int]) -> bytes:
    nodes = b"".join(message(1, message(4, op.encode())) for op in ops)
    weights = b"".join(
        message(5, varint(2 << 3) + varint(t) + message(9, b"\x00" * 300)) for t in types
    )
    graph = message(2, b"g") + nodes + weights
    return varint(1 << 3) + varint(8) + message(7, graph)  # ir_version 8, then the graph


def test_summary_lists_op_and_weight_types() -> None:
    summary = summarize_graph(model(["Conv", "DynamicQuantizeLSTM", "Conv"], [1, 10, 1]))
    assert summary.op_types == {"Conv", "DynamicQuantizeLSTM"}
    assert summary.initializer_types == {1, 10}
    assert summary.has_fp16_weights
    assert not summarize_graph(model(["Conv"], [1])).has_fp16_weights


def test_fixed_width_fields_are_skipped() -> None:
    data = varint(3 << 3 | 1) + b"\x01" * 8 + varint(4 << 3 | 5) + b"\x02" * 4 + varint(5 << 3)
    assert [number for number, _ in fields(memoryview(data + varint(7)))] == [3, 4, 5]


@pytest.mark.parametrize(
    "data",
    [
        model(["Conv"], [1])[:-5],  # cut inside the graph
        varint(7 << 3 | 2) + varint(1000) + b"short",  # length past the end
        b"\xff" * 12,  # a varint that never ends
        varint(1 << 3 | 3),  # a group: not used by ONNX
    ],
)
def test_malformed_bytes_are_a_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        summarize_graph(data)


def test_unreadable_or_malformed_files_have_no_summary(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\xff" * 12)
    assert read_graph_summary(broken) is None
    assert read_graph_summary(tmp_path / "missing.onnx") is None
