"""Which class runs a runtime name: ONNX Runtime here, the others plugged in from outside.

This package is the torch-free core, so it never names the PyTorch code. Runtimes that live
elsewhere register under the entry-point group ``hwr.runtimes`` (name = runtime name, value =
a class called as ``cls(path, device=..., threads=...)``); the ``hwr`` package registers its
PyTorch and TorchScript adapters there in its pyproject.toml.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Protocol

from runtimes.base import Runtime
from runtimes.errors import RuntimeUnavailableError

ENTRY_POINT_GROUP = "hwr.runtimes"
BUILTIN = {"onnx": "runtimes.ort_runtime:OrtRuntime"}


class RuntimeFactory(Protocol):
    def __call__(self, path: Path, *, device: str, threads: int | None) -> Runtime: ...


def _entry_point(name: str) -> EntryPoint | None:
    if name in BUILTIN:
        return EntryPoint(name=name, value=BUILTIN[name], group=ENTRY_POINT_GROUP)
    found = list(entry_points(group=ENTRY_POINT_GROUP, name=name))
    return found[0] if found else None


def runtime_factory(name: str, path: Path) -> RuntimeFactory:
    """The class registered for runtime ``name``; a missing plugin is a one-line error."""
    entry = _entry_point(name)
    if entry is None:
        raise RuntimeUnavailableError(
            f"{path}: a {path.suffix} model runs with the {name!r} runtime, which is not "
            f"installed here (it comes with the hwr package and torch: pip install hwr)"
        )
    try:
        factory: RuntimeFactory = entry.load()
    except ImportError as exc:
        raise RuntimeUnavailableError(
            f"{path}: the {name!r} runtime ({entry.value}) cannot be imported: {exc}"
        ) from None
    return factory
