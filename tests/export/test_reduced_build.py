"""`hwr export --ort` writes the operator list for a custom ONNX Runtime build beside the .ort."""

from __future__ import annotations

import re

import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.model.checkpoint import save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset


def test_ort_export_comes_with_its_required_operators(tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "tiny-model.safetensors"
    save_checkpoint(CRNN(get_preset("tiny")).eval(), checkpoint, {})
    out = tmp_path / "out"
    args = ["export", str(checkpoint), "--format", "onnx", "--ort", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    config = out / "tiny-model.required_operators.config"
    assert f"ort operators: {config}" in result.output
    text = config.read_text()
    assert text.startswith("# Generated from model/s:\n# - tiny-model.ort\n")
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert entries and all(re.match(r"^[\w.]*;\d+;\S", line) for line in entries)
    ops = {
        op.split("{")[0] for line in entries for op in re.split(r",(?=[A-Z])", line.split(";")[2])
    }
    assert {"Conv", "LSTM", "MatMul"} <= ops  # the CRNN's CNN, recurrent layer and head
