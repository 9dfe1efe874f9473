"""The operator list of an ``.ort`` export, for a custom (reduced) ONNX Runtime build.

ONNX Runtime can be compiled with only the kernels a model needs (``build.sh
--include_ops_by_config FILE``, see "Custom build" in its docs): a much smaller runtime for
mobile and edge apps. The file is what ONNX Runtime's own ``convert_onnx_models_to_ort`` writes
(``domain;opset;Op1,Op2`` lines, with the data types each operator needs for
``--enable_reduced_operator_type_support``), made here from the verified ``.ort`` file itself.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_SUFFIX = ".required_operators.config"


def config_path(ort_target: Path) -> Path:
    """``model.ort`` -> ``model.required_operators.config``."""
    return ort_target.with_name(ort_target.stem + CONFIG_SUFFIX)


def write_required_operators(ort_file: Path, target: Path, name: str) -> None:
    """Write the required operators and types of ``ort_file``, naming it ``name`` in the header
    (the file may be a temporary one)."""
    from onnxruntime.tools.ort_format_model.utils import _extract_ops_and_types_from_ort_models

    required, types = _extract_ops_and_types_from_ort_models([Path(ort_file)], True)
    lines = [f"# Generated from model/s:\n# - {name}\n"]
    for domain in sorted(required):
        for opset in sorted(required[domain]):
            ops = sorted(required[domain][opset])
            if ops:
                entries = [op + (types.get_config_entry(domain, op) or "") for op in ops]
                lines.append(f"{domain};{opset};{','.join(entries)}\n")
    Path(target).write_text("".join(lines), encoding="utf-8")
