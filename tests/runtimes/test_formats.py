"""The format registry: one table answers every "which format / runtime / file" question."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtimes.errors import HwrError
from runtimes.formats import (
    FORMATS,
    ModelFormat,
    by_export_option,
    export_formats,
    format_of,
    is_checkpoint,
    register,
)
from runtimes.recognizer import runtime_for


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("m.safetensors", "torch"),
        ("m.ts", "torchscript"),
        ("M.PT", "torchscript"),
        ("m.onnx", "onnx"),
        ("m.int8.onnx", "onnx-int8"),
        ("dir.v2/m.fp16.onnx", "onnx-fp16"),
        ("m.ort", "ort"),
        ("m.png", None),
    ],
)
def test_a_file_name_says_its_format_longest_suffix_first(file: str, name: str | None) -> None:
    found = format_of(file)
    assert (found.name if found else None) == name


def test_every_suffix_maps_to_the_runtime_of_its_format() -> None:
    for model_format in FORMATS.values():
        for suffix in model_format.suffixes:
            assert runtime_for(Path("m" + suffix), None) == model_format.runtime


def test_an_explicit_runtime_must_fit_the_file() -> None:
    with pytest.raises(HwrError, match="runs with runtime 'onnx', not 'torch'"):
        runtime_for(Path("m.int8.onnx"), "torch")
    with pytest.raises(HwrError, match="unknown model file type '.bin'"):
        runtime_for(Path("m.bin"), None)


def test_only_the_trained_checkpoint_is_the_original() -> None:
    assert is_checkpoint(Path("run/best.safetensors"))
    assert not any(is_checkpoint(f"m{f.suffix}") for f in FORMATS.values() if f.exported)


def test_precision_drives_the_reduced_precision_flag() -> None:
    reduced = {f.name for f in FORMATS.values() if f.reduced_precision}
    assert reduced == {f.name for f in FORMATS.values() if f.precision != "fp32"}
    assert {"onnx-int8", "onnx-fp16"} <= reduced and "onnx" not in reduced


def test_export_options_name_the_formats_they_write() -> None:
    assert set(export_formats()) >= {"torchscript", "onnx"}
    assert by_export_option("--int8").suffix == ".int8.onnx"
    with pytest.raises(KeyError):
        by_export_option("--int4")


def test_a_taken_name_or_suffix_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(ModelFormat("onnx", ".other", "onnx", "fp32", "--other"))
    with pytest.raises(ValueError, match="reuses a file suffix"):
        register(ModelFormat("other", ".pt", "torchscript", "fp32", "--other"))
    assert "other" not in FORMATS
