"""Export a CRNN to TorchScript with the model contract as an extra file inside the archive.

The model is scripted rather than traced: scripting keeps every shape symbolic, so there is no
batch size or width baked in by an example input (traced LSTMs are prone to that).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from hwr_export.atomic import write_verified
from hwr_export.model.crnn import CRNN
from runtimes.contract import METADATA_KEY, ModelContract
from runtimes.errors import HwrError, first_line

CONTRACT_FILE = "hwr_contract.json"  # name of the contract inside the TorchScript zip


def to_script(model: CRNN) -> torch.jit.ScriptModule:
    """Script ``forward`` (images -> logits); falls back to tracing if scripting is refused."""
    model = model.eval()
    try:
        with warnings.catch_warnings():
            # torch 2.13 marks TorchScript deprecated; the format is still what C++/mobile
            # users load, and the export is verified like every other.
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(model)
    except Exception:  # TorchScript compile errors have no common public base class
        example = torch.zeros(2, 1, model.config.input_height, 4 * model.config.min_width + 64)
        with torch.no_grad():
            return torch.jit.trace(model, example)


def write_torchscript(model: CRNN, contract: ModelContract, target: Path) -> None:
    scripted = to_script(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(scripted, str(target), _extra_files={CONTRACT_FILE: contract.to_json()})


def export_torchscript(
    model: CRNN,
    contract: ModelContract,
    path: Path,
    force: bool = True,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``path`` atomically; ``check`` runs on the temporary file before it is renamed."""
    return write_verified(path, lambda tmp: write_torchscript(model, contract, tmp), check, force)


def load_torchscript(path: Path) -> tuple[torch.jit.ScriptModule, ModelContract]:
    """Load a TorchScript export and the contract stored inside it (CPU, eval mode)."""
    path = Path(path)
    if not path.is_file():
        raise HwrError(f"{path}: TorchScript file not found")
    extra = {CONTRACT_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError, OSError) as exc:
        raise HwrError(f"{path}: not a readable TorchScript file ({first_line(exc)})") from None
    raw = extra[CONTRACT_FILE]
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    contract = ModelContract.from_metadata({METADATA_KEY: text} if text else {}, str(path))
    module.eval()
    return module, contract
