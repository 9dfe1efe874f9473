"""int8 and fp16 exports of a random tiny model: structure, contract, closeness to fp32."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from hwr_export.export.onnx import export_onnx, read_contract
from hwr_export.export.pipeline import ExportRequest, export_all
from hwr_export.export.quantize import (
    calibration_batches,
    check_fp16_structure,
    export_fp16,
    export_int8,
)
from hwr_export.export.verify import (
    compare,
    onnx_runner,
    probe_batches,
    verify_close,
)
from hwr_export.model.checkpoint import contract_for, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError

CALIBRATION = "synthetic:16"


@pytest.fixture(scope="module")
def fp32(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    contract = contract_for(model.config, {"val_cer": 0.5})
    return export_onnx(model, contract, tmp_path_factory.mktemp("q") / "tiny.onnx")


@pytest.fixture(scope="module")
def int8(fp32) -> Path:
    batches = calibration_batches(CALIBRATION, read_contract(fp32))
    return export_int8(fp32, fp32.with_name("tiny.int8.onnx"), batches)


def test_int8_is_static_qdq_cnn_with_quantized_lstm(fp32, int8):
    ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLSTM"} <= ops
    assert "ConvInteger" not in ops and "LSTM" not in ops
    assert int8.stat().st_size < 0.4 * fp32.stat().st_size
    # The dynamically quantized LSTM makes a line depend on its batch mates: said in the contract.
    assert read_contract(int8) == replace(read_contract(fp32), batch_independent=False)


def test_int8_follows_fp32_frame_by_frame(fp32, int8):
    """Random weights leave logits within ~0.01 of each other, so whole transcripts are too
    fragile to compare; frames and the logits' relative error are the meaningful measure."""
    contract = read_contract(fp32)
    lines = calibration_batches("synthetic:8", contract)
    result = compare("int8", onnx_runner(fp32), onnx_runner(int8), lines, contract, "test")
    assert result.frame_agreement >= 0.8
    assert result.relative_error < 0.1
    verify_close(compare("int8", onnx_runner(fp32), onnx_runner(int8), lines, contract, "test"))


def test_gross_breakage_fails_the_close_check(fp32):
    contract = read_contract(fp32)
    run = onnx_runner(fp32)
    batches = probe_batches(contract, widths=(80,), batch_sizes=(2,))
    with pytest.raises(HwrError, match="logits off by"):
        verify_close(compare("broken", run, lambda b: -run(b), batches, contract, "test"))
    with pytest.raises(HwrError, match="non-finite"):
        verify_close(compare("nan", run, lambda b: run(b) * np.nan, batches, contract, "test"))


def test_decisive_model_with_different_transcripts_fails(fp32):
    """Logits close overall but the best class moved in every inked frame: a decisive
    original (large top-2 gap) makes that a transcript failure, not rounding noise."""
    contract = read_contract(fp32)
    frames = np.array([1, 0, 2, 0, 3, 0, 4, 0] * 5)

    def decisive(shift: int):  # noqa: ANN202
        def run(batch: np.ndarray) -> np.ndarray:
            classes = np.where(frames > 0, frames + shift, 0)
            logits = 10.0 * np.eye(contract.num_classes, dtype=np.float32)[classes]
            return np.repeat(logits[None], batch.shape[0], axis=0)

        return run

    batches = probe_batches(contract, widths=(80,), batch_sizes=(2,))
    with pytest.raises(HwrError, match="CER"):
        verify_close(compare("moved", decisive(0), decisive(1), batches, contract, "test"))
    assert (
        verify_close(compare("same", decisive(0), decisive(0), batches, contract, "t")).agreement
        == 1.0
    )


def test_fp16_keeps_float32_io_and_runs_close_to_fp32(fp32):
    half = export_fp16(fp32, fp32.with_name("tiny.fp16.onnx"))
    proto = onnx.load(str(half))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in proto.graph.initializer)
    assert read_contract(half) == read_contract(fp32)
    batch = probe_batches(read_contract(fp32), widths=(120,), batch_sizes=(2,))[0]
    np.testing.assert_allclose(onnx_runner(half)(batch), onnx_runner(fp32)(batch), atol=1e-2)


def test_fp16_files_are_known_by_content_under_any_name(fp32, tmp_path):
    """Exports check a file under a temporary name; the fp16 workaround (ORT's CPU NCHWc
    optimizer crashes on fp16 convolutions of the small preset) must still apply there."""
    import shutil

    from runtimes.ort_runtime import has_fp16_weights

    half = export_fp16(fp32, tmp_path / "tiny.fp16.onnx")
    staged = tmp_path / ".tiny.fp16.onnx.x1y2.tmp"
    shutil.copyfile(half, staged)
    assert has_fp16_weights(staged) and has_fp16_weights(half)
    assert not has_fp16_weights(fp32)


def test_fp16_structure_check_rejects_an_fp32_file(fp32):
    with pytest.raises(HwrError, match="no float16 weights"):
        check_fp16_structure(fp32)


def test_export_all_writes_the_benchmark_names(fp32, tmp_path):
    checkpoint = tmp_path / "m.safetensors"
    torch.manual_seed(1)
    save_checkpoint(CRNN(get_preset("tiny")).eval(), checkpoint)
    lines: list[str] = []
    request = ExportRequest(
        checkpoint, tmp_path / "out", frozenset({"onnx-int8"}), CALIBRATION, "synthetic:8"
    )
    done = export_all(request, log=lines.append)
    assert done == {"onnx-int8": tmp_path / "out" / "m.int8.onnx"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.int8.onnx"]
    assert len(lines) == 1 and "MB" in lines[0] and "frames agree" in lines[0]


def test_int8_batch_16_transcripts_equal_batch_1(tmp_path):
    """Dynamic quantization scales the LSTM input by the whole batch's range, so batched int8
    logits differ from single-line ones; the runtime therefore runs int8 line by line."""
    from hwr_export.data.sources import open_lines
    from runtimes.batching import run_batched
    from runtimes.recognizer import Recognizer

    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():  # outputs that depend on the input (see tests/runtimes)
        for layer in model.cnn:
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.mul_(2.0)
        model.proj.weight.mul_(5.0)
        model.head.weight.mul_(5.0)
    fp32 = export_onnx(model, contract_for(model.config), tmp_path / "s.onnx")
    contract = read_contract(fp32)
    int8 = export_int8(fp32, tmp_path / "s.int8.onnx", calibration_batches(CALIBRATION, contract))
    images = [line.image for line in open_lines("synthetic:48", "validation")]
    rec = Recognizer.load(int8, threads=1)
    single = [p.text for p in rec.transcribe(images, batch_size=1)]
    assert [p.text for p in rec.transcribe(images, batch_size=16)] == single
    assert len(set(single)) > 3  # varied transcripts: the comparison means something

    # Without the contract's word, batches really do change lines (what the flag protects from).
    arrays = [rec.prepare(image) for image in images]
    alone = run_batched(arrays, rec.contract, rec.runtime.run, 1)
    as_if_safe = replace(rec.contract, batch_independent=True)
    batched = run_batched(arrays, as_if_safe, rec.runtime.run, 16)
    assert any(not np.array_equal(a, b) for a, b in zip(alone, batched, strict=True))


def test_an_int8_file_without_the_contract_flag_still_runs_line_by_line(tmp_path, int8):
    """int8 files exported before the contract carried the flag: the graph itself tells."""
    from hwr_export.export.onnx import set_metadata
    from runtimes.recognizer import Recognizer

    proto = onnx.load(str(int8))
    set_metadata(proto, replace(read_contract(int8), batch_independent=True).to_metadata())
    old = tmp_path / "old.int8.onnx"
    onnx.save(proto, str(old))
    assert not Recognizer.load(old).contract.batch_independent


def test_graph_summary_reads_what_the_onnx_package_reads(fp32, int8, tmp_path):
    """runtimes.onnx_scan walks the protobuf bytes by hand (importing onnx costs ~0.5 s a
    command): it must find exactly the weight types and op types the onnx package finds."""
    from runtimes.onnx_scan import read_graph_summary

    half = export_fp16(fp32, tmp_path / "tiny.fp16.onnx")
    for path in (fp32, int8, half):
        graph = onnx.load(str(path)).graph
        summary = read_graph_summary(path)
        assert summary is not None
        assert summary.initializer_types == {i.data_type for i in graph.initializer}
        assert summary.op_types == {node.op_type for node in graph.node}
    assert read_graph_summary(half).has_fp16_weights
    assert not read_graph_summary(fp32).has_fp16_weights
    assert "DynamicQuantizeLSTM" in read_graph_summary(int8).op_types
