"""The reference architecture, timed side by side: the ``seed`` preset replica in PyTorch eager.

Speed depends on the architecture, not the weights, so random weights time it faithfully; its
transcripts are noise and are never scored. It is large (9.1M parameters, 128 px input, tens of
G multiply-adds per line), so it runs on a subset of the same lines, at batch 1, through the
same Recognizer pipeline as our formats.

Side by side means interleaved: each line is read by the reference and by each compared format
in turn (order rotating from line to line), so a machine whose load drifts during the run
slows both sides of every ratio alike.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from hwr_export.bench.timing import cuda_synchronizer, summarize_latency, timed
from runtimes.preprocess import to_model_input

REFERENCE_PRESET = "seed"
REFERENCE_RUNTIME = "torch"
DEFAULT_REFERENCE_LINES = 20


def mean_multiply_adds(config: Any, contract: Any, images: Sequence[Image.Image]) -> float:
    """Multiply-adds of one forward pass, averaged over the lines at their model-input width."""
    from hwr_export.model.crnn import multiply_adds

    widths = [to_model_input(image, contract).shape[1] for image in images]
    return sum(multiply_adds(config, w) for w in widths) / max(len(widths), 1)


def _interleaved_seconds(
    recognizers: dict[str, Any], images: Sequence[Image.Image], device: str, progress: bool
) -> dict[str, list[float]]:
    """Batch-1 seconds per line for every recognizer, taking turns on each line."""
    sync = cuda_synchronizer(device)
    names = list(recognizers)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up, untimed
        recognizers[name].transcribe([images[0]], batch_size=1)
    bar = tqdm(
        images, desc="reference side by side", unit="line", leave=False, disable=not progress
    )
    for i, image in enumerate(bar):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            _, elapsed = timed(partial(recognizers[name].transcribe, [image], batch_size=1), sync)
            seconds[name].append(elapsed)
    return seconds


def measure_reference(
    images: Sequence[Image.Image],
    compared: dict[str, tuple[str, Path]],
    device: str = "cpu",
    threads: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Time the reference replica and ``compared`` ({format: (runtime, path)}) on ``images``."""
    import torch

    from hwr_export.model.checkpoint import contract_for, save_checkpoint
    from hwr_export.model.crnn import CRNN, count_parameters
    from hwr_export.model.presets import get_preset
    from runtimes.recognizer import Recognizer

    config = get_preset(REFERENCE_PRESET)
    torch.manual_seed(0)
    model = CRNN(config).eval()
    with tempfile.TemporaryDirectory(prefix="hwr-seed-") as tmp:
        path = Path(tmp) / "seed-random-weights.safetensors"
        save_checkpoint(model, path)
        recognizers = {
            REFERENCE_PRESET: Recognizer.load(path, REFERENCE_RUNTIME, device, threads),
            **{
                name: Recognizer.load(p, runtime, device, threads)
                for name, (runtime, p) in compared.items()
            },
        }
        seconds = _interleaved_seconds(recognizers, images, device, progress)
    reference_seconds = seconds.pop(REFERENCE_PRESET)
    return {
        "preset": REFERENCE_PRESET,
        "runtime": REFERENCE_RUNTIME,
        "weights": "random (timing only; accuracy not measured)",
        "parameters": count_parameters(model),
        "input_height": config.input_height,
        "lines": len(images),
        "batch_size": 1,
        "latency_ms": summarize_latency(reference_seconds).to_dict(),
        "multiply_adds_per_line": mean_multiply_adds(config, contract_for(config), images),
        "speedup": [_speedup(name, s, reference_seconds) for name, s in seconds.items()],
    }


def _speedup(name: str, ours: list[float], reference: list[float]) -> dict[str, Any]:
    """Median over lines of reference time / our time on the same line, timed back to back."""
    ratios = [r / o for r, o in zip(reference, ours, strict=True) if o > 0]
    return {
        "format": name,
        "ours_p50_ms": summarize_latency(ours).p50_ms,
        "reference_p50_ms": summarize_latency(reference).p50_ms,
        "ratio": statistics.median(ratios) if ratios else None,
        "compares": f"{REFERENCE_PRESET} in {REFERENCE_RUNTIME} eager vs {name}, batch 1, "
        f"median over {len(reference)} lines of the per-line latency ratio, interleaved",
    }


def compared_formats(measurements: Sequence[Any]) -> list[str]:
    """Our torch format (same runtime as the reference: what the architecture buys), fp32 ONNX
    (the usual deployment, and the format speed targets name) and our fastest format by batch-1
    p50 (what reduced precision buys on top)."""
    ok = [m for m in measurements if not m.error and m.latency]
    chosen = [f for f in ("torch", "onnx") if any(m.format == f for m in ok)]
    if ok:
        fastest = min(ok, key=lambda m: m.latency.p50_ms).format
        if fastest not in chosen:
            chosen.append(fastest)
    return chosen
