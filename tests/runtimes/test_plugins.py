"""The torch-free core finds the PyTorch runtimes through entry points and never imports upward."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import runtimes
from hwr_export.model.source import default_model_path
from hwr_export.model.torch_runtime import TorchRuntime, TorchScriptRuntime
from runtimes import plugins
from runtimes.errors import RuntimeUnavailableError
from runtimes.ort_runtime import OrtRuntime
from runtimes.recognizer import Recognizer

RUNTIMES_DIR = Path(runtimes.__file__).parent


def test_each_runtime_name_finds_its_class() -> None:
    model = Path("model.any")
    assert plugins.runtime_factory("onnx", model) is OrtRuntime
    assert plugins.runtime_factory("torch", model) is TorchRuntime
    assert plugins.runtime_factory("torchscript", model) is TorchScriptRuntime


def test_a_missing_plugin_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [])
    with pytest.raises(RuntimeUnavailableError) as caught:
        Recognizer.load(default_model_path())
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(default_model_path()))
    assert "'torch' runtime, which is not installed" in message
    # ONNX is built in: it needs no plugin.
    assert plugins.runtime_factory("onnx", Path("m.onnx")) is OrtRuntime


def test_a_torch_model_without_torch_is_a_one_line_error() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from runtimes.errors import RuntimeUnavailableError\n"
        "from runtimes.recognizer import Recognizer\n"
        "try:\n"
        f"    Recognizer.load({str(default_model_path())!r})\n"
        "except RuntimeUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{default_model_path()}: this model needs PyTorch, which is not installed "
        "(pip install torch)\n"
    )


def test_runtimes_never_imports_hwr_export() -> None:
    """The core stays installable and importable without the training package."""
    upward = []
    for path in sorted(RUNTIMES_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            upward += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "hwr_export"]
    assert upward == []
