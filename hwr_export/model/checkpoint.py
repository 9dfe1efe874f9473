"""Self-describing checkpoints: weights + architecture config + model contract in one safetensors file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from hwr_export import __version__
from hwr_export.atomic import atomic_path
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import CRNNConfig
from runtimes.contract import METADATA_KEY, ModelContract
from runtimes.errors import HwrError, ModelContractError, first_line

CONFIG_KEY = "hwr_config"


def contract_for(config: CRNNConfig, metrics: dict[str, Any] | None = None) -> ModelContract:
    return ModelContract(
        preset=config.name,
        input_height=config.input_height,
        charset=config.charset,
        min_width=config.min_width,
        width_stride=config.width_stride,
        hwr_version=__version__,
        metrics=metrics or {},
    )


def save_checkpoint(model: CRNN, path: Path, metrics: dict[str, Any] | None = None) -> None:
    """Write weights, config and contract atomically (a crash never leaves half a file)."""
    contract = contract_for(model.config, metrics)
    metadata = {
        METADATA_KEY: contract.to_json(),
        CONFIG_KEY: json.dumps(model.config.to_dict()),
        "format": "pt",
    }
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    broken = [k for k, v in tensors.items() if v.is_floating_point() and not v.isfinite().all()]
    if broken:
        raise HwrError(f"{path}: not saved, weights {broken[0]!r} are not finite (NaN or inf)")
    with atomic_path(Path(path)) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_checkpoint_metadata(path: Path) -> tuple[CRNNConfig, ModelContract]:
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise HwrError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise HwrError(f"{path}: not a readable safetensors checkpoint ({exc})") from None
    if CONFIG_KEY not in metadata:
        raise ModelContractError(f"{path}: checkpoint has no hwr architecture config")
    contract = ModelContract.from_metadata(metadata, str(path))
    try:
        config = CRNNConfig.from_dict(json.loads(metadata[CONFIG_KEY]))
    except (TypeError, KeyError, ValueError) as exc:
        raise ModelContractError(f"{path}: malformed architecture config ({exc})") from None
    if (config.name, config.input_height, config.charset) != (
        contract.preset,
        contract.input_height,
        contract.charset,
    ):
        raise ModelContractError(f"{path}: architecture config and model contract disagree")
    return config, contract


def load_checkpoint(path: Path) -> tuple[CRNN, ModelContract]:
    """Rebuild the model in eval mode; any mismatch between file and architecture is an HwrError."""
    config, contract = read_checkpoint_metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise HwrError(f"{path}: corrupt checkpoint ({exc})") from None
    model = CRNN(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelContractError(
            f"{path}: weights do not fit preset {config.name!r} ({first_line(exc, last=True)})"
        ) from None
    model.eval()
    return model, contract
