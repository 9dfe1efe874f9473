"""`hwr export`: fp32 parity at many widths, the contract inside every file, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.export.onnx import export_onnx, export_ort, read_contract
from hwr_export.export.torchscript import export_torchscript, load_torchscript
from hwr_export.export.verify import (
    VERIFY_WIDTHS,
    onnx_runner,
    probe_batches,
    reference_runner,
    torchscript_runner,
    verify_exact,
)
from hwr_export.model.checkpoint import contract_for, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError, ModelContractError
from runtimes.ort_runtime import OrtRuntime

METRICS = {"val_cer": 0.123, "epoch": 3}


@pytest.fixture(scope="module")
def tiny() -> tuple[CRNN, object]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    return model, contract_for(model.config, METRICS)


@pytest.fixture(scope="module")
def tiny_onnx(tiny, tmp_path_factory) -> Path:
    model, contract = tiny
    return export_onnx(model, contract, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="module")
def checkpoint(tiny, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "tiny-model.safetensors"
    save_checkpoint(tiny[0], path, METRICS)
    return path


def test_onnx_matches_pytorch_at_every_width_and_batch_size(tiny, tiny_onnx):
    model, contract = tiny
    result = verify_exact(
        "onnx", reference_runner(model, contract), onnx_runner(tiny_onnx), contract
    )
    assert result.max_abs_diff <= 1e-4
    assert result.lines == len(VERIFY_WIDTHS) * (1 + 4)
    # Independently of the checker: time follows width (a frozen time axis would not).
    run = onnx_runner(tiny_onnx)
    for batch in probe_batches(contract, widths=(40, 700), batch_sizes=(3,)):
        with torch.no_grad():
            expected = model(torch.from_numpy(batch)).numpy()
        got = run(batch)
        assert got.shape == expected.shape
        assert got.shape[1] == batch.shape[3] // contract.width_stride
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_onnx_graph_has_dynamic_batch_and_width(tiny_onnx):
    proto = onnx.load(str(tiny_onnx))
    (images,) = proto.graph.input
    dims = images.type.tensor_type.shape.dim
    assert images.name == "images" and dims[0].dim_param and dims[3].dim_param
    assert dims[1].dim_value == 1 and dims[2].dim_value == 32
    assert proto.graph.output[0].name == "logits"
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17


def test_torchscript_matches_pytorch_and_keeps_the_contract(tiny, tmp_path):
    model, contract = tiny
    path = export_torchscript(model, contract, tmp_path / "tiny.ts")
    result = verify_exact(
        "ts", reference_runner(model, contract), torchscript_runner(path), contract
    )
    assert result.max_abs_diff <= 1e-4
    assert load_torchscript(path)[1] == contract


def test_contract_round_trips_through_onnx_and_ort_metadata(tiny, tiny_onnx, tmp_path):
    _, contract = tiny
    assert read_contract(tiny_onnx) == contract
    assert read_contract(tiny_onnx).metrics == METRICS
    ort_file = export_ort(tiny_onnx, tmp_path / "tiny.ort")
    assert OrtRuntime(ort_file).contract == contract


def test_onnx_without_metadata_is_refused(tiny_onnx, tmp_path):
    proto = onnx.load(str(tiny_onnx))
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare))
    with pytest.raises(ModelContractError, match="no hwr model contract"):
        OrtRuntime(bare)
    with pytest.raises(ModelContractError, match="bare.onnx"):
        read_contract(bare)


def test_verification_catches_a_frozen_time_axis_and_drift(tiny):
    model, contract = tiny
    original = reference_runner(model, contract)

    def frozen(batch: np.ndarray) -> np.ndarray:  # what a width baked in at export looks like
        return original(batch[..., :700])

    with pytest.raises(HwrError, match="output shape"):
        verify_exact("frozen", original, frozen, contract)
    with pytest.raises(HwrError, match="max logit diff"):
        verify_exact("drift", original, lambda b: original(b) + 1e-3, contract)


def test_failed_check_leaves_no_file(tiny, tmp_path):
    model, contract = tiny
    target = tmp_path / "bad.onnx"

    def reject(path: Path) -> None:
        raise HwrError("rejected")

    with pytest.raises(HwrError, match="rejected"):
        export_onnx(model, contract, target, check=reject)
    assert list(tmp_path.iterdir()) == []


def test_cli_exports_then_refuses_to_overwrite_without_force(checkpoint, tmp_path):
    runner = CliRunner()
    args = ["export", str(checkpoint), "--format", "onnx", "--out", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    target = tmp_path / "tiny-model.onnx"
    assert "tiny-model.onnx" in first.output and "max logit diff" in first.output
    assert read_contract(target).metrics == METRICS
    before = target.stat().st_mtime_ns

    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already exists (use --force to overwrite)" in again.output
    assert len(again.output.strip().splitlines()) == 1
    assert target.stat().st_mtime_ns == before

    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.stat().st_mtime_ns != before


def test_cli_corrupt_checkpoint_is_a_one_line_error(tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00\x01 definitely not safetensors")
    result = CliRunner().invoke(app, ["export", str(broken), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("hwr: error:") and "broken.safetensors" in lines[0]
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_rejects_int8_without_onnx(checkpoint, tmp_path):
    args = ["export", str(checkpoint), "--format", "torchscript", "--int8", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "--format onnx or all" in result.output


def test_failed_int8_step_leaves_nothing_and_the_retry_works(checkpoint, tmp_path):
    args = ["export", str(checkpoint), "--format", "onnx", "--int8", "--out", str(tmp_path)]
    failed = CliRunner().invoke(app, [*args, "--calibration", str(tmp_path / "nonexistent")])
    assert failed.exit_code == 1
    assert len(failed.output.strip().splitlines()) == 1 and "Traceback" not in failed.output
    assert list(tmp_path.iterdir()) == []
    retry = CliRunner().invoke(app, [*args, "--calibration", "synthetic:8"])
    assert retry.exit_code == 0, retry.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-model.int8.onnx", "tiny-model.onnx"]


def test_a_value_after_a_flag_is_explained(tmp_path):
    result = CliRunner().invoke(app, ["export", "--int8", "true", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "take no value: drop the 'true'" in result.output
