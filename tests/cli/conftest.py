"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random ONNX model whose outputs vary from line to line (weights scaled up, so
    an untrained model does not read one letter per line; see test_runtimes)."""
    import torch

    from hwr_export.export.onnx import export_onnx
    from hwr_export.model.checkpoint import contract_for
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset

    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():
        model.proj.weight.mul_(5.0)
        model.head.weight.mul_(5.0)
    path = tmp_path_factory.mktemp("cli_model") / "tiny.onnx"
    export_onnx(model, contract_for(model.config), path)
    return path
