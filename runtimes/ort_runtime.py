"""ONNX Runtime adapter (CPU or CUDA) for .onnx and .ort files carrying the model contract.

Every ONNX Runtime session hwr makes comes from ``open_session`` (the runtime, the export checks,
the .ort conversion), so the fp16 workaround and the error handling live in one place.
Execution providers are chosen here and only here. A CUDA request that does not end with the
CUDA provider active is an error, never a silent CPU fallback: a benchmark must not label a CPU
run as a GPU one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from runtimes.base import check_device
from runtimes.contract import ModelContract
from runtimes.errors import HwrError, RuntimeUnavailableError, first_line
from runtimes.onnx_scan import GraphSummary, read_graph_summary

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
# HEURISTIC: the default exhaustive cuDNN search re-benchmarks for every new line width.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}
# ORT's NCHWc layout transformer crashes the process (SIGSEGV) at session creation for fp16
# graphs on the CPU provider (onnxruntime issue #15494, reproduced with 1.32). Fp32 and int8 keep
# it: it halves CPU time of the small preset.
FP16_DISABLED_OPTIMIZERS = ["NchwcTransformer"]
# Ops whose activation scale comes from the whole batch: a line's output depends on its mates.
DYNAMIC_QUANTIZATION_OPS = {"DynamicQuantizeLSTM", "DynamicQuantizeLinear", "DynamicQuantizeMatMul"}


ORT_FORMAT_ID = b"ORTM"  # flatbuffer file identifier of ORT-format models, at bytes 4-8


def _graph_summary(path: Path) -> GraphSummary | None:
    """What the graph of an ONNX file holds, or None for ORT-format files (not readable here)
    and for unreadable ones (they get ORT's own error message when the session is made).

    Told apart by content, not by name: an export checks its files under a temporary name
    (``.x.onnx.123.tmp``), and an fp16 file that is not recognised crashes ORT's CPU optimizer.
    Read once per file version: opening a runtime asks both questions below.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    return _summary_of_version(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _summary_of_version(path: str, mtime_ns: int, size: int) -> GraphSummary | None:
    try:
        with open(path, "rb") as stream:
            if stream.read(8)[4:8] == ORT_FORMAT_ID:
                return None
    except OSError:
        return None
    return read_graph_summary(Path(path))


def has_fp16_weights(path: Path) -> bool:
    """Whether an .onnx file holds float16 initializers."""
    summary = _graph_summary(path)
    return summary is not None and summary.has_fp16_weights


def has_dynamic_quantization(path: Path) -> bool:
    """Whether an .onnx file holds ops that quantize activations by the batch's own range
    (int8 files exported before the contract said so); ORT-format files rely on the contract."""
    summary = _graph_summary(path)
    return summary is not None and bool(summary.op_types & DYNAMIC_QUANTIZATION_OPS)


def _providers(device: str, source: str) -> list[Any]:
    import onnxruntime as ort

    if device == "cpu":
        return [CPU_PROVIDER]
    if CUDA_PROVIDER not in ort.get_available_providers():
        raise RuntimeUnavailableError(
            f"{source}: CUDA was requested but the CUDA execution provider is not active "
            "(this onnxruntime has no CUDA support; pip install onnxruntime-gpu)"
        )
    return [(CUDA_PROVIDER, dict(CUDA_OPTIONS)), CPU_PROVIDER]


def open_session(
    path: Path,
    providers: list[Any] | None = None,
    threads: int | None = None,
    configure: Callable[[Any], None] | None = None,
) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path`` (CPU unless ``providers`` say otherwise).

    ``threads``: intra-op threads (None: ORT's own pool, one thread per core); ``configure`` may
    set further ``SessionOptions`` (e.g. where to save the optimized model). A file that ORT
    cannot load is a one-line HwrError.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # provider-load warnings are turned into our own error
    # Memory patterns pay off for inputs of one fixed shape; lines come in every width. Reading
    # the 226 IAM validation lines in a fresh process, both cores free: 0.82-0.85 s without
    # them, 0.86-0.90 s with them (same transcripts).
    options.enable_mem_pattern = False
    if threads is not None:
        if threads < 1:
            raise HwrError(f"threads must be at least 1, got {threads}")
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if configure is not None:
        configure(options)
    disabled = FP16_DISABLED_OPTIMIZERS if has_fp16_weights(path) else None
    try:
        return ort.InferenceSession(
            str(path),
            sess_options=options,
            providers=providers or [CPU_PROVIDER],
            disabled_optimizers=disabled,
        )
    except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf/... types
        raise HwrError(f"{path}: cannot load ONNX model ({first_line(exc, 200)})") from None


class OrtRuntime:
    """Runs an ONNX (or ORT-format) hwr model; ``threads`` sets intra-op threads (None: ORT's).

    ``run`` may be called from several threads at once (``runtimes.threads``)."""

    name = "onnx"

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        self.path = Path(path)
        self.device = check_device(device, str(self.path))
        if not self.path.is_file():
            raise HwrError(f"{self.path}: model file not found")
        providers = _providers(self.device, str(self.path))
        self.session = open_session(self.path, providers, threads)
        if self.device == "cuda" and CUDA_PROVIDER not in self.session.get_providers():
            raise RuntimeUnavailableError(
                f"{self.path}: CUDA was requested but the CUDA execution provider is not active "
                "(no usable GPU or CUDA/cuDNN libraries were found)"
            )
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.contract = ModelContract.from_metadata(dict(metadata), source=str(self.path))
        if self.contract.batch_independent and has_dynamic_quantization(self.path):
            self.contract = replace(self.contract, batch_independent=False)
        model_input = self.session.get_inputs()[0]
        model_output = self.session.get_outputs()[0]
        self.contract.check_graph(model_input.shape, model_output.shape, str(self.path))
        self.input_name = model_input.name
        # fp16 exports may keep float16 inputs; the rest of the pipeline stays float32.
        self.input_dtype = np.float16 if model_input.type == "tensor(float16)" else np.float32

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def run(self, batch: np.ndarray) -> np.ndarray:
        feed = {self.input_name: np.ascontiguousarray(batch, dtype=self.input_dtype)}
        (logits, *_) = self.session.run(None, feed)
        return np.asarray(logits, dtype=np.float32)
