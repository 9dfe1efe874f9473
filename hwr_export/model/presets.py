"""Named CRNN architectures: a registry of dataclass configs, one per preset.

Each config is plain data so it can be saved next to the weights and rebuilt exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from runtimes.contract import IAM_CHARSET, REFERENCE_CHARSET
from runtimes.errors import HwrError


@dataclass(frozen=True)
class ConvBlock:
    channels: int  # output channels of the convolution
    kernel: int = 3  # square kernel size
    padding: int = 1
    pool: tuple[int, int] | None = None  # (height, width) max-pool after the block


@dataclass(frozen=True)
class CRNNConfig:
    name: str
    input_height: int  # the line height the network is built for
    blocks: tuple[ConvBlock, ...]
    proj_dim: int  # linear projection of the flattened column (channels x rows)
    lstm_hidden: int  # per direction
    lstm_layers: int
    dropout: float
    charset: str = IAM_CHARSET
    shortcut_head: bool = False  # auxiliary CTC head on the CNN features (training only)
    description: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.charset) + 1

    @property
    def feature_rows(self) -> int:
        h = self.input_height
        for b in self.blocks:
            h = h + 2 * b.padding - b.kernel + 1
            if b.pool:
                h //= b.pool[0]
        return h

    @property
    def width_stride(self) -> int:
        stride = 1
        for b in self.blocks:
            if b.pool:
                stride *= b.pool[1]
        return stride

    @property
    def min_width(self) -> int:
        """Smallest input width that still yields two output frames."""
        w = 2
        for b in reversed(self.blocks):
            if b.pool:
                w *= b.pool[1]
            w = w + b.kernel - 1 - 2 * b.padding
        return max(w, 8)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CRNNConfig:
        data = dict(data)
        data["blocks"] = tuple(
            ConvBlock(**{**b, "pool": tuple(b["pool"]) if b.get("pool") else None})
            for b in data["blocks"]
        )
        return cls(**data)


_REGISTRY: dict[str, Callable[[], CRNNConfig]] = {}


def register_preset(fn: Callable[[], CRNNConfig]) -> Callable[[], CRNNConfig]:
    _REGISTRY[fn.__name__] = fn
    return fn


def preset_names() -> list[str]:
    return list(_REGISTRY)


def get_preset(name: str) -> CRNNConfig:
    if name not in _REGISTRY:
        raise HwrError(f"unknown preset {name!r}; choose one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]()


@register_preset
def seed() -> CRNNConfig:
    """Replica of the reference model (9,139,147 parameters, 128 px input)."""
    return CRNNConfig(
        name="seed",
        input_height=128,
        blocks=(
            ConvBlock(64, pool=(2, 2)),
            ConvBlock(128, pool=(2, 2)),
            ConvBlock(256),
            ConvBlock(256, pool=(2, 1)),
            ConvBlock(512),
            ConvBlock(512, pool=(2, 1)),
            ConvBlock(512, kernel=2, padding=0),
        ),
        proj_dim=256,
        lstm_hidden=256,
        lstm_layers=2,
        dropout=0.3,
        charset=REFERENCE_CHARSET,
        description="faithful replica of the reference CRNN, for side-by-side comparison",
    )


@register_preset
def small() -> CRNNConfig:
    """Default: a CPU-friendly CRNN at 64 px; narrow early layers where pixels are many."""
    return CRNNConfig(
        name="small",
        input_height=64,
        blocks=(
            ConvBlock(16, pool=(2, 2)),
            ConvBlock(32, pool=(2, 2)),
            ConvBlock(48),
            ConvBlock(64, pool=(2, 1)),
            ConvBlock(96),
            ConvBlock(96, pool=(2, 1)),
        ),
        proj_dim=192,
        lstm_hidden=128,
        lstm_layers=2,
        dropout=0.25,
        shortcut_head=True,
        description="default: accurate CPU/edge model, ~1M parameters",
    )


@register_preset
def medium() -> CRNNConfig:
    """``small`` with a third BiLSTM layer: more accurate, ~1.2x small's time per line."""
    return replace(
        small(),
        name="medium",
        lstm_layers=3,
        description="small with a third BiLSTM layer, ~1.4M parameters",
    )


@register_preset
def wide() -> CRNNConfig:
    """``medium`` with 160-wide BiLSTMs (128 before): the bundled model's preset.

    Grows from ``medium`` without changing what it computes (``hwr train --grow``); 1.3x
    ``medium``'s time per line as fp32 ONNX.
    """
    return replace(
        medium(),
        name="wide",
        lstm_hidden=160,
        description="the bundled model: medium with 160-wide BiLSTMs, ~2.0M parameters",
    )


@register_preset
def large() -> CRNNConfig:
    """A teacher for ``hwr train --teacher``: twice ``medium``'s channels, 256-wide BiLSTMs.

    Same line height, charset and width stride as ``small`` and ``medium``, so its frames line up
    with theirs. Meant for a GPU (about 4x ``medium``'s multiply-adds); not a deployment model.
    """
    return CRNNConfig(
        name="large",
        input_height=64,
        blocks=(
            ConvBlock(32, pool=(2, 2)),
            ConvBlock(64, pool=(2, 2)),
            ConvBlock(96),
            ConvBlock(128, pool=(2, 1)),
            ConvBlock(192),
            ConvBlock(192, pool=(2, 1)),
        ),
        proj_dim=256,
        lstm_hidden=256,
        lstm_layers=3,
        dropout=0.3,
        shortcut_head=True,
        description="teacher for distillation (GPU): medium's frames, wider throughout",
    )


@register_preset
def tiny() -> CRNNConfig:
    """Smallest useful model, for microcontroller-class devices and fast tests."""
    return CRNNConfig(
        name="tiny",
        input_height=32,
        blocks=(
            ConvBlock(8, pool=(2, 2)),
            ConvBlock(16, pool=(2, 2)),
            ConvBlock(32, pool=(2, 1)),
            ConvBlock(48, pool=(2, 1)),
        ),
        proj_dim=64,
        lstm_hidden=48,
        lstm_layers=1,
        dropout=0.1,
        shortcut_head=True,
        description="tiny 32 px model for tests and microcontrollers",
    )
