"""The model contract: everything a runtime must know to feed a model and read its output.

One object travels with every artifact (checkpoint metadata, ONNX ``metadata_props``,
TorchScript extra files), so no side file can drift from the weights it describes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from runtimes.errors import ModelContractError

CONTRACT_VERSION = 1
METADATA_KEY = "hwr_contract"  # key under which the contract JSON is stored in every artifact

# The 79 symbols of the IAM line transcriptions (Teklia/IAM-line); index 0 is the CTC blank.
IAM_CHARSET = " !\"#&'()*+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The 74 symbols of the reference model (75 classes with blank): IAM without # & + / X.
REFERENCE_CHARSET = " !\"'()*,-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwxyz"


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
    contract_version: int = CONTRACT_VERSION

    def __post_init__(self) -> None:
        if self.blank_index != 0:
            raise ModelContractError(f"blank_index must be 0, got {self.blank_index}")
        if not self.charset or len(set(self.charset)) != len(self.charset):
            raise ModelContractError("charset must be non-empty and without duplicates")
        if self.input_height < 8:
            raise ModelContractError(f"input_height must be at least 8, got {self.input_height}")
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
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelContractError(f"model contract is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelContractError("model contract is not a JSON object")
        return cls.from_dict(data)

    def with_metrics(self, metrics: dict[str, Any]) -> ModelContract:
        data = self.to_dict()
        data["metrics"] = dict(metrics)
        return ModelContract.from_dict(data)

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
