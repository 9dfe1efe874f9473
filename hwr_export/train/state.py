"""What a training run keeps on disk, so a killed run resumes exactly where it stopped.

OUT/last.safetensors + OUT/last_state.pt: weights, optimizer, scheduler, position (epoch, batch)
and history, written atomically together every few minutes and after every epoch.
OUT/best.safetensors: the best model by validation CER. OUT/metrics.json: the log.
"""

from __future__ import annotations

import json
import math
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from hwr_export.atomic import atomic_path, atomic_write_text
from hwr_export.model.checkpoint import save_checkpoint
from hwr_export.model.crnn import CRNN
from runtimes.errors import HwrError, first_line

STATE_NAME = "last_state.pt"
LAST_NAME = "last.safetensors"
BEST_NAME = "best.safetensors"
METRICS_NAME = "metrics.json"
STATE_KEYS = {"config", "progress", "optimizer", "scheduler", "model"}


@dataclass
class Progress:
    epoch: int = 0  # current epoch (0-based)
    batch: int = 0  # next batch to run within the epoch
    step: int = 0  # optimizer steps taken so far
    best_cer: float = float("inf")
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # training wall time so far, across resumes
    epoch_losses: list[float] = field(default_factory=list)  # this epoch's step losses so far


def save_run(
    out: Path,
    model: CRNN,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    progress: Progress,
    config: dict[str, Any],
    ema: torch.nn.Module | None = None,
) -> None:
    """Weights first, then the state that points at them: a crash between leaves the old pair.
    ``ema``: the moving average of the weights (``--ema``), kept in the state only."""
    save_checkpoint(model, out / LAST_NAME, {"epoch": progress.epoch, "step": progress.step})
    state = {
        "config": config,
        "progress": progress.__dict__,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "model": model.state_dict(),
    }
    if ema is not None:
        state["ema"] = ema.state_dict()
    with atomic_path(out / STATE_NAME) as tmp:
        torch.save(state, tmp)


def load_run(out: Path) -> dict[str, Any]:
    """The saved state of the run in ``out``; anything but a genuine state is refused in one line.

    ``weights_only`` unpickles tensors and plain containers only: a crafted file that would run
    code (a ``__reduce__``) is refused before anything in it is executed.
    """
    path = out / STATE_NAME
    if not path.is_file():
        raise HwrError(f"{out}: nothing to resume (no {STATE_NAME})")
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols first
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only refuses any opcode or global a tensor state never holds: a damaged file
        # and a crafted one look alike here, and neither is run.
        raise HwrError(
            f"{path}: cannot read training state: refused, not a plain state written by hwr "
            f"train ({first_line(exc, 200)}); resume only runs you made"
        ) from None
    except Exception as exc:  # torch raises several types for a damaged pickle/zip
        raise HwrError(f"{path}: cannot read training state ({first_line(exc, 200)})") from None
    missing = STATE_KEYS - state.keys() if isinstance(state, dict) else STATE_KEYS
    if missing:
        raise HwrError(f"{path}: not a training state (missing {', '.join(sorted(missing))})")
    try:
        state["progress"] = Progress(**state["progress"])
    except TypeError:
        raise HwrError(f"{path}: not a training state (malformed progress)") from None
    return state


def averaged_won(record: dict[str, Any]) -> bool:
    """Whether an epoch's averaged weights (``--ema``) read validation better than its raw
    weights (a tie goes to the raw weights)."""
    return bool(record.get("ema_val_cer", math.inf) < record["val_cer"])


def epoch_cer(record: dict[str, Any]) -> float:
    """An epoch's validation CER: the better of the raw and the averaged (``--ema``) weights."""
    return float(record["ema_val_cer"] if averaged_won(record) else record["val_cer"])


def saved_weights_metrics(record: dict[str, Any]) -> dict[str, Any]:
    """An epoch's record as the checkpoint of its better weights carries it: ``val_*`` are the
    figures of the weights in the file, so a reader of the contract needs no other key; when
    the average won, the raw weights' figures move to ``raw_val_*``."""
    if not averaged_won(record):
        return {**record, "weights": "raw"}
    metrics = {k: v for k, v in record.items() if not k.startswith("ema_val_")}
    for name in ("val_cer", "val_wer", "val_loss"):
        metrics[f"raw_{name}"] = record[name]
        metrics[name] = record[f"ema_{name}"]
    return {**metrics, "weights": "ema"}


def write_metrics(out: Path, config: dict[str, Any], progress: Progress) -> None:
    best = min(progress.history, key=epoch_cer, default=None)
    log = {"config": config, "best": best, "epochs": progress.history}
    atomic_write_text(out / METRICS_NAME, json.dumps(log, indent=2) + "\n")
