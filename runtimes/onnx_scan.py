"""Two facts about an ONNX file, read straight from its protobuf bytes, without the onnx package.

Before it opens a session, the runtime must know whether a file holds float16 weights (ONNX
Runtime's CPU layout optimizer crashes on those) and whether it quantizes activations per batch
(its lines then depend on their batch mates). ``import onnx`` costs 0.3-0.7 s here, most of it
in ml_dtypes: as much as reading 50 lines, on every `hwr transcribe`. The wire format needs only
a short loop: ModelProto.graph (7) -> GraphProto.node (1) -> NodeProto.op_type (4), and
GraphProto.initializer (5) -> TensorProto.data_type (2). Tensor bytes are skipped, not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MODEL_GRAPH, GRAPH_NODE, GRAPH_INITIALIZER, NODE_OP_TYPE, TENSOR_DATA_TYPE = 7, 1, 5, 4, 2
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
FLOAT16 = 10  # onnx.TensorProto.FLOAT16


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True)
class GraphSummary:
    initializer_types: frozenset[int]  # onnx.TensorProto data types of the weights
    op_types: frozenset[str]

    @property
    def has_fp16_weights(self) -> bool:
        return FLOAT16 in self.initializer_types


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of one message: ints for varints, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | memoryview = 0
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire == LENGTH_DELIMITED:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise WireError("field runs past the end of its message")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (FIXED64, FIXED32):
            pos += 8 if wire == FIXED64 else 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise WireError("field runs past the end of its message")
        yield number, value


def summarize_graph(data: bytes) -> GraphSummary:
    """The main graph's weight types and op types (subgraphs and functions are not visited)."""
    types: set[int] = set()
    ops: set[str] = set()
    for number, graph in fields(memoryview(data)):
        if number != MODEL_GRAPH or isinstance(graph, int):
            continue
        for kind, item in fields(graph):
            if isinstance(item, int) or kind not in (GRAPH_NODE, GRAPH_INITIALIZER):
                continue
            for field, value in fields(item):
                if kind == GRAPH_NODE and field == NODE_OP_TYPE and not isinstance(value, int):
                    ops.add(bytes(value).decode("utf-8", "replace"))
                elif kind == GRAPH_INITIALIZER and field == TENSOR_DATA_TYPE:
                    types.add(value if isinstance(value, int) else -1)
    return GraphSummary(frozenset(types), frozenset(ops))


def read_graph_summary(path: Path) -> GraphSummary | None:
    """The summary of an ONNX file; None when it cannot be read or parsed (ONNX Runtime then
    gives its own error when the session is made)."""
    try:
        return summarize_graph(path.read_bytes())
    except (OSError, WireError):
        return None
