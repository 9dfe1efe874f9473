"""Which class runs a runtime name: ONNX Runtime here, the others plugged in from outside.

This package is the torch-free core, so it never names the PyTorch code. Runtimes that live
elsewhere register under the entry-point group ``hwr.runtimes`` (name = runtime name, value =
a class called as ``cls(path, device=..., threads=...)``); the ``hwr`` package registers its
PyTorch and TorchScript adapters there in its pyproject.toml.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from runtimes.base import Runtime
from runtimes.errors import RuntimeUnavailableError

ENTRY_POINT_GROUP = "hwr.runtimes"
BUILTIN = {"onnx": "runtimes.ort_runtime:OrtRuntime"}


class RuntimeFactory(Protocol):
    def __call__(self, path: Path, *, device: str, threads: int | None) -> Runtime: ...


def _load(name: str) -> RuntimeFactory | None:
    """The class registered for ``name``, None if nothing is; ImportError if it will not load."""
    if name in BUILTIN:  # without importlib.metadata, whose import and scan cost every run
        module, _, attribute = BUILTIN[name].partition(":")
        factory: RuntimeFactory = getattr(importlib.import_module(module), attribute)
        return factory
    from importlib.metadata import entry_points

    found = list(entry_points(group=ENTRY_POINT_GROUP, name=name))
    return found[0].load() if found else None


def runtime_factory(name: str, path: Path) -> RuntimeFactory:
    """The class registered for runtime ``name``; a missing plugin is a one-line error."""
    try:
        factory = _load(name)
    except ImportError as exc:
        raise RuntimeUnavailableError(
            f"{path}: the {name!r} runtime cannot be imported: {exc}"
        ) from None
    if factory is None:
        raise RuntimeUnavailableError(
            f"{path}: a {path.suffix} model runs with the {name!r} runtime, which is not "
            f"installed here (it comes with the hwr package and torch: pip install hwr)"
        )
    return factory
