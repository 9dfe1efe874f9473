"""PyTorch adapters: the eager model from a .safetensors checkpoint, and TorchScript exports.

They implement ``runtimes.base.Runtime`` and plug into the torch-free core as the ``torch`` and
``torchscript`` runtimes through the ``hwr.runtimes`` entry points (pyproject.toml). torch is
imported only inside functions, so a missing torch is a one-line error, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from runtimes.base import check_device
from runtimes.contract import ModelContract
from runtimes.errors import HwrError, RuntimeUnavailableError


def _import_torch(source: str) -> Any:
    try:
        import torch
    except ImportError:
        raise RuntimeUnavailableError(
            f"{source}: this model needs PyTorch, which is not installed (pip install torch)"
        ) from None
    return torch


def _torch_device(device: str, source: str) -> Any:
    check_device(device, source)
    torch = _import_torch(source)
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeUnavailableError(
            f"{source}: CUDA was requested but torch.cuda.is_available() is False "
            "(no GPU or a CPU-only torch build)"
        )
    return torch.device(device)


class _TorchModule:
    """Shared run loop: eval mode, inference mode, numpy in and out."""

    name = "torch"

    def __init__(self, module: Any, contract: ModelContract, device: str, source: str) -> None:
        self.device = device
        self._torch_device = _torch_device(device, source)
        self.module = module.to(self._torch_device).eval()
        self.contract = contract

    def run(self, batch: np.ndarray) -> np.ndarray:
        import torch

        images = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        with torch.inference_mode():
            logits = self.module(images.to(self._torch_device))
        return logits.float().cpu().numpy()


class TorchRuntime(_TorchModule):
    """The eager CRNN rebuilt from a self-describing .safetensors checkpoint."""

    name = "torch"

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        self.path = Path(path)
        _torch_device(device, str(self.path))  # fail on CUDA or no torch before reading weights
        _set_threads(threads, str(self.path))
        from hwr_export.model.checkpoint import load_checkpoint

        model, contract = load_checkpoint(self.path)
        super().__init__(model, contract, device, str(self.path))

    @classmethod
    def from_model(cls, model: Any, contract: ModelContract, device: str = "cpu") -> TorchRuntime:
        """Wrap an in-memory CRNN (e.g. straight after training) without a file."""
        runtime = cls.__new__(cls)
        runtime.path = None  # type: ignore[assignment]
        _TorchModule.__init__(runtime, model, contract, device, "model")
        return runtime


class TorchScriptRuntime(_TorchModule):
    """A TorchScript export whose contract is stored as the extra file ``hwr_contract.json``."""

    name = "torchscript"

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        self.path = Path(path)
        _torch_device(device, str(self.path))
        _set_threads(threads, str(self.path))
        from hwr_export.export.torchscript import load_torchscript

        module, contract = load_torchscript(self.path)
        super().__init__(module, contract, device, str(self.path))


def _set_threads(threads: int | None, source: str) -> None:
    if threads is None:
        return
    if threads < 1:
        raise HwrError(f"threads must be at least 1, got {threads}")
    _import_torch(source).set_num_threads(threads)
