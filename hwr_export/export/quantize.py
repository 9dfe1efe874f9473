"""Reduced-precision ONNX: static int8 (QDQ) for CPUs and fp16 weights for CUDA.

int8, measured on the `small` preset (batch 1, a 64x1000 line, 1 thread, AMD EPYC with
AVX-512 VNNI): 2.2x faster than fp32 (6.8 vs 14.8 ms), 26% of the file size (1.05 / 4.03 MB),
and on IAM validation the same CER as fp32 (26.3%, a half-trained checkpoint):

* Conv, MatMul, Relu, MaxPool: static QDQ, per-channel int8 weights, uint8 activations, weights
  in 7 bits (``reduce_range``) so that the u8s8 kernels of AVX2/AVX-512 CPUs *without* VNNI
  cannot saturate: the file then gives the same answers on every x86 machine. Quantizing Relu
  and MaxPool lets the quantizer fold each Relu into its Conv's output range and keeps the
  whole CNN in uint8 (leaving them out cost a dequantize/requantize pair per block). The
  first conv (1 input channel) is 2.5x slower in int8 than fp32, but leaving it in fp32 puts
  its max-pool on a slow uint8 NCHW path after ORT moves the quantize up: net loss, so kept.
* LSTM: the static quantizer has no LSTM kernel; dynamic quantization turns it into
  DynamicQuantizeLSTM (int8 weights, fp32 state), which halves its time and holds ~70% of
  the weights, so the file only shrinks to <30% with it.
* Dynamic quantization of the convolutions (ConvInteger) is slower than fp32: not used.
* Batch = single: DynamicQuantizeLSTM scales its input by the range of the whole batch, so a
  line's transcript depended on its batch mates. ``benchmarks/int8_variants.py`` (bundled
  ``hwr-wide-iam``, 226 IAM validation lines, 1 thread, 2-core EPYC; ms per line at batch
  1 / 16, CER): fp32 9.8 / 7.4, 6.98%; int8 batched 4.4 / 3.7, 7.21% / 7.12%, 198/226 lines
  identical; int8 line by line 4.5 / 4.5, 7.21%, 226/226; int8 CNN + fp32 LSTM 8.4 / 5.8,
  7.06%, 226/226 (int8's 0.22 CER points: 0.08 from the CNN, the rest from the LSTM; with
  ``hwr-medium-iam`` all 0.28 came from the CNN). Line by line keeps more of int8's speed
  than an fp32 LSTM, so int8 exports say so
  in their contract (``batch_independent=False``) and ``runtimes.batching`` runs them one
  line at a time.

fp16: weights in float16, inputs and outputs kept float32 (``keep_io_types``) so callers
feed the same arrays to every format.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from hwr_export.atomic import write_verified
from hwr_export.export.onnx import INPUT_NAME, read_contract, set_metadata
from runtimes.contract import ModelContract
from runtimes.errors import HwrError
from runtimes.preprocess import make_batch, to_model_input

DEFAULT_CALIBRATION = "synthetic:200"
CALIBRATION_BATCH_SIZE = 8
STATIC_OP_TYPES = ["Conv", "MatMul", "Relu", "MaxPool"]
DYNAMIC_OP_TYPES = ["LSTM"]


def line_batches(
    spec: str, splits: Sequence[str], contract: ModelContract, limit: int, batch_size: int
) -> list[np.ndarray]:
    """Lines from a data spec (first split that exists), preprocessed like every runtime does,
    grouped by width so each batch is mostly ink, not padding, at its natural width."""
    from hwr_export.data.sources import open_lines

    samples = None
    for split in splits:
        try:
            samples = open_lines(spec, split, limit)
            break
        except HwrError:
            if split == splits[-1]:
                raise
    arrays = sorted(
        (to_model_input(s.image, contract) for s in samples or []), key=lambda a: a.shape[1]
    )
    return [
        make_batch(arrays[i : i + batch_size], contract) for i in range(0, len(arrays), batch_size)
    ]


def calibration_batches(
    spec: str | None, contract: ModelContract, limit: int = 200
) -> list[np.ndarray]:
    return line_batches(
        spec or DEFAULT_CALIBRATION,
        ("train", "validation", "test"),
        contract,
        limit,
        CALIBRATION_BATCH_SIZE,
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """The quantizers log advice to the root logger and the fp16 converter warns about every
    tiny weight it rounds; neither is actionable for the user of `hwr export`."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


class _BatchReader:
    """ONNX Runtime's CalibrationDataReader protocol over ready-made batches."""

    def __init__(self, batches: Sequence[np.ndarray]) -> None:
        self._batches = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {INPUT_NAME: batch}

    def rewind(self) -> None:  # pragma: no cover - only used by multi-pass calibrators
        raise NotImplementedError


def write_int8(fp32_path: Path, target: Path, batches: Sequence[np.ndarray]) -> None:
    """Quantize ``fp32_path`` into ``target`` (overwritten): static QDQ CNN, dynamic LSTM."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not batches:
        raise HwrError("int8 calibration needs at least one line")
    contract = read_contract(fp32_path)
    with tempfile.TemporaryDirectory(prefix="hwr-int8-") as work, _quiet():
        prepared, static = Path(work) / "prepared.onnx", Path(work) / "static.onnx"
        # Shape inference + graph cleanup first, as ONNX Runtime recommends for QDQ models.
        quant_pre_process(str(fp32_path), str(prepared))
        quantize_static(
            str(prepared),
            str(static),
            _BatchReader(batches),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=STATIC_OP_TYPES,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        if DYNAMIC_OP_TYPES:
            quantize_dynamic(
                str(static),
                str(target),
                op_types_to_quantize=DYNAMIC_OP_TYPES,
                weight_type=QuantType.QInt8,
                reduce_range=True,
            )
        else:
            shutil.copyfile(static, target)
    proto = onnx.load(str(target))
    # DynamicQuantizeLSTM scales its input by the batch's range: batch mates change a line.
    per_line = bool(DYNAMIC_OP_TYPES)
    set_metadata(proto, replace(contract, batch_independent=not per_line).to_metadata())
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(target))


def write_fp16(fp32_path: Path, target: Path) -> None:
    """fp16 weights and compute, fp32 inputs/outputs; ops without fp16 kernels stay fp32
    (onnxconverter-common's default block list)."""
    import onnx
    from onnxconverter_common import float16

    proto = onnx.load(str(fp32_path))
    with _quiet():
        half = float16.convert_float_to_float16(proto, keep_io_types=True)
    set_metadata(half, read_contract(fp32_path).to_metadata())
    onnx.checker.check_model(half, full_check=True)
    onnx.save(half, str(target))
    check_fp16_structure(target)


def check_fp16_structure(path: Path) -> None:
    """fp32 at the edges, fp16 inside; an HwrError otherwise."""
    import onnx

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    float32, float16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    for value in list(proto.graph.input) + list(proto.graph.output):
        if value.type.tensor_type.elem_type != float32:
            raise HwrError(f"{path}: fp16 export has a non-float32 input/output {value.name!r}")
    if not any(init.data_type == float16 for init in proto.graph.initializer):
        raise HwrError(f"{path}: fp16 export holds no float16 weights")
    if any(init.data_type == float32 and len(init.dims) > 1 for init in proto.graph.initializer):
        raise HwrError(f"{path}: fp16 export still holds float32 weight matrices")


def export_int8(
    fp32_path: Path,
    path: Path,
    batches: Sequence[np.ndarray],
    force: bool = True,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write the int8 model atomically; ``check`` runs on it before it replaces ``path``."""
    return write_verified(path, lambda tmp: write_int8(fp32_path, tmp, batches), check, force)


def export_fp16(
    fp32_path: Path, path: Path, force: bool = True, check: Callable[[Path], None] | None = None
) -> Path:
    return write_verified(path, lambda tmp: write_fp16(fp32_path, tmp), check, force)
