"""Every model file format hwr knows, in one table: name, file suffix, runtime, precision, and
how the file is produced.

The runtime picks its backend from this table (by file suffix), ``hwr export`` names its files
and options from it, ``hwr bench`` resolves ``--formats`` through it and the parity gate asks it
which formats are reduced precision. A new format is one ``register`` call here (plus the code
that writes it); nothing else holds a list of formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TRAINING = "hwr train"  # ``made_by`` of the checkpoint itself: every other format is exported
FP32 = "fp32"


@dataclass(frozen=True)
class ModelFormat:
    name: str  # on the command line and in reports ("onnx-int8")
    suffix: str  # written files are named <checkpoint stem><suffix>
    runtime: str  # the runtime that loads it ("torch", "torchscript", "onnx")
    precision: str  # "fp32", "int8" or "fp16"
    made_by: str  # TRAINING, or the `hwr export` option that writes it ("--format onnx", "--int8")
    other_suffixes: tuple[str, ...] = ()  # further endings loaded the same way (.pt TorchScript)

    @property
    def reduced_precision(self) -> bool:
        """int8 and fp16 drift numerically from the original, so the gate allows them more."""
        return self.precision != FP32

    @property
    def exported(self) -> bool:
        return self.made_by != TRAINING

    @property
    def export_format(self) -> str | None:
        """The ``hwr export --format`` value that writes it (None: written by a flag)."""
        prefix = "--format "
        return self.made_by[len(prefix) :] if self.made_by.startswith(prefix) else None

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (self.suffix, *self.other_suffixes)


FORMATS: dict[str, ModelFormat] = {}


def register(model_format: ModelFormat) -> ModelFormat:
    """Add a format; a name or suffix already taken is a programming error."""
    if model_format.name in FORMATS:
        raise ValueError(f"model format {model_format.name!r} is registered twice")
    taken = {s for f in FORMATS.values() for s in f.suffixes}
    if taken & set(model_format.suffixes):
        raise ValueError(f"model format {model_format.name!r} reuses a file suffix")
    FORMATS[model_format.name] = model_format
    return model_format


TORCH = register(ModelFormat("torch", ".safetensors", "torch", FP32, TRAINING))
register(
    ModelFormat(
        "torchscript", ".ts", "torchscript", FP32, "--format torchscript", (".pt", ".torchscript")
    )
)
register(ModelFormat("onnx", ".onnx", "onnx", FP32, "--format onnx"))
register(ModelFormat("onnx-int8", ".int8.onnx", "onnx", "int8", "--int8"))
register(ModelFormat("onnx-fp16", ".fp16.onnx", "onnx", "fp16", "--fp16"))
register(ModelFormat("ort", ".ort", "onnx", FP32, "--ort"))


def runtime_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.runtime for f in FORMATS.values()))


def model_suffixes() -> tuple[str, ...]:
    """Every file ending that names a model file (for globbing and for telling a model from an
    image on the command line)."""
    return tuple(s for f in FORMATS.values() for s in f.suffixes)


def format_of(path: str | Path) -> ModelFormat | None:
    """The format a file name says (the longest matching suffix: x.int8.onnx is onnx-int8)."""
    name = Path(path).name.lower()
    matches = [(len(s), f) for f in FORMATS.values() for s in f.suffixes if name.endswith(s)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def is_checkpoint(path: str | Path) -> bool:
    """Whether the file is a trained PyTorch checkpoint (the original every export comes from)."""
    found = format_of(path)
    return found is not None and not found.exported


def export_formats() -> tuple[str, ...]:
    """The ``hwr export --format`` values, in registry order."""
    return tuple(f.export_format for f in FORMATS.values() if f.export_format is not None)


def by_export_option(option: str) -> ModelFormat:
    """The format that an ``hwr export`` flag (``--int8``) writes."""
    for model_format in FORMATS.values():
        if model_format.made_by == option:
            return model_format
    raise KeyError(option)
