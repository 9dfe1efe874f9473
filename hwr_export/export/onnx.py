"""Export a CRNN to ONNX (fp32) with dynamic batch and width, the model contract inside.

The graph has one input ``images`` (batch, 1, height, width) float32 and one output ``logits``
(batch, time, classes); ``metadata_props`` carries ``contract.to_metadata()`` so a runtime can
preprocess and decode without any side file.

We use the TorchScript-based exporter (``dynamo=False``): the dynamo exporter has been seen to
freeze the time dimension of bidirectional LSTMs, and the multi-width check in
``hwr_export.export.verify`` is what proves the dynamic axes really are dynamic.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from hwr_export.atomic import write_verified
from hwr_export.model.crnn import CRNN
from runtimes.contract import ModelContract
from runtimes.errors import HwrError, first_line

if TYPE_CHECKING:
    import onnx

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
MIN_OPSET = 17


def example_input(contract: ModelContract, batch: int = 2) -> torch.Tensor:
    """A dummy batch for tracing: batch > 1 and a width well above the minimum, so that no
    shape is specialised to 1 or to a tiny width."""
    width = max(4 * contract.min_width, 128)
    return torch.full((batch, 1, contract.input_height, width), contract.pad_value)


def write_onnx(model: CRNN, contract: ModelContract, target: Path, opset: int = MIN_OPSET) -> None:
    """Export, embed the contract and run the full ONNX checker, writing ``target`` in place."""
    import onnx

    if opset < MIN_OPSET:
        raise HwrError(f"ONNX opset {opset} is too old; use {MIN_OPSET} or newer")
    model = model.eval()
    example = (example_input(contract),)
    with warnings.catch_warnings():
        # The exporters warn about their own deprecation and about LSTM batch sizes; neither
        # applies (the multi-width, multi-batch verification is the real check).
        warnings.simplefilter("ignore")
        try:
            _export_torchscript_based(model, example, target, opset)
        except Exception as legacy:  # any failure: try the other exporter
            # The TorchScript-based exporter is deprecated; when a later torch drops it, the
            # dynamo exporter takes over (its graph must pass the same multi-width check).
            try:
                _export_dynamo(model, example, target, max(opset, 18))
            except Exception as exc:
                raise HwrError(
                    f"{target}: ONNX export failed ({first_line(legacy, 200)}; dynamo: {first_line(exc, 200)})"
                ) from None
    proto = onnx.load(str(target))
    set_metadata(proto, contract.to_metadata())
    proto.producer_name = "hwr"
    proto.producer_version = contract.hwr_version
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(target))


def _export_torchscript_based(
    model: CRNN, example: tuple[torch.Tensor], target: Path, opset: int
) -> None:
    torch.onnx.export(
        model,
        example,
        str(target),
        dynamo=False,
        opset_version=opset,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch", 3: "width"}, OUTPUT_NAME: {0: "batch", 1: "time"}},
        do_constant_folding=True,
    )


def _export_dynamo(model: CRNN, example: tuple[torch.Tensor], target: Path, opset: int) -> None:
    batch = torch.export.Dim("batch", min=1, max=4096)
    width = torch.export.Dim("width", min=8, max=1 << 20)
    torch.onnx.export(
        model,
        example,
        str(target),
        dynamo=True,
        external_data=False,
        verbose=False,
        opset_version=opset,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes={"images": {0: batch, 3: width}},
    )


def set_metadata(proto: onnx.ModelProto, metadata: dict[str, str]) -> None:
    """Replace (not append to) the model's metadata_props with ``metadata``."""
    import onnx

    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, metadata)


def export_onnx(
    model: CRNN,
    contract: ModelContract,
    path: Path,
    opset: int = MIN_OPSET,
    force: bool = True,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``path`` atomically. ``check`` (e.g. a parity verification) runs on the finished
    temporary file; if it raises, nothing is left at ``path``."""
    return write_verified(path, lambda tmp: write_onnx(model, contract, tmp, opset), check, force)


def export_ort(
    onnx_path: Path, path: Path, force: bool = True, check: Callable[[Path], None] | None = None
) -> Path:
    """Convert to ONNX Runtime's flatbuffer format (.ort, for mobile/minimal builds) offline,
    through the session's optimized-model output. Only basic, hardware-independent graph
    optimizations are baked in, so the file runs on any CPU."""
    return write_verified(path, lambda tmp: write_ort(onnx_path, tmp, check), None, force)


def write_ort(onnx_path: Path, target: Path, check: Callable[[Path], None] | None = None) -> None:
    """Convert ``onnx_path`` into ``target`` (any name); ``check`` runs on the converted file."""
    import onnxruntime as ort

    from runtimes.ort_runtime import open_session

    with tempfile.TemporaryDirectory() as work:
        # ORT tells the two formats apart by the .ort suffix, so check a properly named copy.
        converted = Path(work) / "model.ort"

        def save_as_ort(options: ort.SessionOptions) -> None:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.optimized_model_filepath = str(converted)
            options.add_session_config_entry("session.save_model_format", "ORT")

        open_session(onnx_path, configure=save_as_ort)
        if check is not None:
            check(converted)
        shutil.copyfile(converted, target)


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    path = Path(path)
    if not path.is_file():
        raise HwrError(f"{path}: ONNX file not found")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others, not one base class
        raise HwrError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    return {p.key: p.value for p in proto.metadata_props}


def read_contract(path: Path) -> ModelContract:
    """The contract stored in an ONNX file; a file without one is refused with a one-line error."""
    return ModelContract.from_metadata(read_metadata(path), str(path))
