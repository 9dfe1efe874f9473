"""The model contract: everything a runtime must know to feed a model and read its output.

One object travels with every artifact (checkpoint metadata, ONNX ``metadata_props``,
TorchScript extra files), so no side file can drift from the weights it describes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from runtimes.errors import ModelContractError

CONTRACT_VERSION = 1
METADATA_KEY = "hwr_contract"  # key under which the contract JSON is stored in every artifact

# The 79 symbols of the IAM line transcriptions (Teklia/IAM-line); index 0 is the CTC blank.
IAM_CHARSET = " !\"#&'()*+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The 74 symbols of the reference model (75 classes with blank): IAM without # & + / X.
REFERENCE_CHARSET = " !\"'()*,-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwxyz"


MAX_CHARSET = 20_000  # symbols; large scripts (CJK) fit, a runaway file does not
MAX_CONTRACT_CHARS = 1_000_000
_BOUNDS = {  # sane ranges; min_width bounds the memory a single tiny line can take
    "input_height": (8, 1024),
    "norm_mean": (-1e3, 1e3),
    "norm_std": (1e-6, 1e3),
    "min_width": (1, 4096),
    "width_stride": (1, 256),
}
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "preset": str,
    "input_height": int,
    "charset": str,
    "blank_index": int,
    "norm_mean": (int, float),
    "norm_std": (int, float),
    "min_width": int,
    "width_stride": int,
    "hwr_version": str,
    "metrics": dict,
    "contract_version": int,
    "batch_independent": bool,
}


@dataclass(frozen=True)
class ModelContract:
    """What a model expects as input and what its output classes mean."""

    preset: str  # registry name of the architecture, e.g. "small"
    input_height: int  # lines are resized to this height, keeping aspect ratio
    charset: str  # class i (i >= 1) is charset[i - 1]; class 0 is the CTC blank
    blank_index: int = 0
    norm_mean: float = 0.5  # x = (pixel / 255 - mean) / std, dark ink on light paper
    norm_std: float = 0.5
    min_width: int = 16  # narrower lines are padded to this width before inference
    width_stride: int = 4  # input pixels per output frame (approximately)
    hwr_version: str = "0.0.0"
    metrics: dict[str, Any] = field(default_factory=dict)  # training/validation figures
    # False when a line's output depends on its batch mates (dynamically quantized ops compute
    # their scales over the whole batch): runtimes then run such a model one line at a time.
    batch_independent: bool = True
    contract_version: int = CONTRACT_VERSION

    def __post_init__(self) -> None:
        """Types, bounds and finite numbers: a model file is user input."""
        for name, kind in _FIELD_TYPES.items():
            value = getattr(self, name)
            if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
                raise ModelContractError(f"{name} has the wrong type ({type(value).__name__})")
        for name, (low, high) in _BOUNDS.items():
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high):
                raise ModelContractError(f"{name} must be within {low}..{high}, got {value}")
        if self.blank_index != 0:
            raise ModelContractError(f"blank_index must be 0, got {self.blank_index}")
        if len(self.charset) > MAX_CHARSET:
            raise ModelContractError(f"charset longer than {MAX_CHARSET} symbols")
        if not self.charset or len(set(self.charset)) != len(self.charset):
            raise ModelContractError("charset must be non-empty and without duplicates")
        if self.norm_std <= 0:
            raise ModelContractError(f"norm_std must be positive, got {self.norm_std}")

    @property
    def num_classes(self) -> int:
        return len(self.charset) + 1

    @property
    def pad_value(self) -> float:
        """Normalized value of blank (white) paper, used to pad lines in a batch."""
        return (1.0 - self.norm_mean) / self.norm_std

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelContract:
        known = {f.name for f in fields(cls)}
        missing = {"preset", "input_height", "charset"} - data.keys()
        if missing:
            raise ModelContractError(f"model contract is missing {sorted(missing)}")
        version = data.get("contract_version", CONTRACT_VERSION)
        if not isinstance(version, int):
            raise ModelContractError(
                f"contract_version has the wrong type ({type(version).__name__})"
            )
        if version > CONTRACT_VERSION:
            raise ModelContractError(
                f"model contract version {version} is newer than this hwr understands "
                f"({CONTRACT_VERSION}); upgrade hwr"
            )
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise ModelContractError(f"malformed model contract: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> ModelContract:
        if len(text) > MAX_CONTRACT_CHARS:
            raise ModelContractError(f"model contract longer than {MAX_CONTRACT_CHARS} characters")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelContractError(f"model contract is not valid JSON: {exc}") from None
        except RecursionError:
            raise ModelContractError("model contract is nested too deeply") from None
        if not isinstance(data, dict):
            raise ModelContractError("model contract is not a JSON object")
        return cls.from_dict(data)

    def to_metadata(self) -> dict[str, str]:
        """Flat string metadata for ONNX ``metadata_props`` and similar key/value stores.

        The full contract is under ``hwr_contract``; the other keys repeat the main fields
        so that generic tools (Netron, ``onnx`` scripts) can show them.
        """
        return {
            METADATA_KEY: self.to_json(),
            "hwr_version": self.hwr_version,
            "preset": self.preset,
            "input_height": str(self.input_height),
            "charset": self.charset,
            "blank_index": str(self.blank_index),
            "normalization": f"(x/255-{self.norm_mean})/{self.norm_std}",
        }

    def check_graph(
        self, input_shape: Sequence[object], output_shape: Sequence[object], source: str
    ) -> None:
        """The contract must describe the graph it travels with: input (B, 1, height, W) and
        output (B, T, classes). Symbolic (named) dimensions are not checked."""
        fixed_input = {1: 1, 2: self.input_height}
        if len(input_shape) != 4 or any(
            isinstance(input_shape[i], int) and input_shape[i] != size
            for i, size in fixed_input.items()
        ):
            raise ModelContractError(
                f"{source}: the model input {list(input_shape)} does not fit the contract's "
                f"(batch, 1, {self.input_height}, width)"
            )
        classes = output_shape[-1] if len(output_shape) == 3 else None
        if isinstance(classes, int) and classes != self.num_classes:
            raise ModelContractError(
                f"{source}: the model has {classes} output classes but the contract's charset "
                f"gives {self.num_classes} ({len(self.charset)} symbols + blank)"
            )
        if len(output_shape) != 3:
            raise ModelContractError(
                f"{source}: the model output {list(output_shape)} is not (batch, frames, classes)"
            )

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str) -> ModelContract:
        if METADATA_KEY not in metadata:
            raise ModelContractError(
                f"{source}: no hwr model contract in the file metadata "
                "(export it with `hwr export` so charset and preprocessing travel with it)"
            )
        try:
            return cls.from_json(metadata[METADATA_KEY])
        except ModelContractError as exc:
            raise ModelContractError(f"{source}: {exc}") from None
