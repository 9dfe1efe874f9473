"""The one interface every inference backend implements: a float32 batch in, logits out.

Preprocessing and decoding live elsewhere (numpy, shared), so nothing after the logits knows
which runtime produced them.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol, runtime_checkable

import numpy as np

from runtimes.contract import ModelContract
from runtimes.errors import RuntimeUnavailableError
from runtimes.formats import runtime_names

RUNTIME_NAMES = runtime_names()


class Device(str, Enum):
    """Where a model runs (the CLI's --device choices too)."""

    cpu = "cpu"
    cuda = "cuda"


DEVICES = tuple(d.value for d in Device)


@runtime_checkable
class Runtime(Protocol):
    contract: ModelContract  # input height, normalization, charset of the loaded model
    name: str  # "torch", "torchscript" or "onnx"
    device: str  # "cpu" or "cuda"

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(B, 1, H, W) float32 normalized images -> (B, T, C) float32 logits (no softmax)."""
        ...


def check_device(device: str, source: str) -> str:
    """Refuse unknown device names with a one-line error before any backend is touched."""
    if device not in DEVICES:
        raise RuntimeUnavailableError(
            f"{source}: unknown device {device!r}; choose one of {', '.join(DEVICES)}"
        )
    return device
