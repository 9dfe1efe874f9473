"""The reference architecture, timed side by side: the ``seed`` preset replica in PyTorch eager.

Speed depends on the architecture, not the weights, so random weights time it faithfully; its
transcripts are noise and are never scored. It is large (9.1M parameters, 128 px input, tens of
G multiply-adds per line), so it runs on a subset of the same lines, at batch 1, through the
same Recognizer pipeline as our own torch format, in the same process and run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from hwr_export.bench.measure import Measurement, subset_p50_ms
from hwr_export.bench.timing import cuda_synchronizer, summarize_latency, time_each, warm_up
from runtimes.preprocess import to_model_input

REFERENCE_PRESET = "seed"
REFERENCE_RUNTIME = "torch"
DEFAULT_REFERENCE_LINES = 20


def mean_multiply_adds(config: Any, contract: Any, images: Sequence[Image.Image]) -> float:
    """Multiply-adds of one forward pass, averaged over the lines at their model-input width."""
    from hwr_export.model import multiply_adds

    widths = [to_model_input(image, contract).shape[1] for image in images]
    return sum(multiply_adds(config, w) for w in widths) / max(len(widths), 1)


def measure_reference(
    images: Sequence[Image.Image],
    device: str = "cpu",
    threads: int | None = None,
    warmup: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Per-line batch-1 latency of the reference replica on ``images`` (random weights)."""
    import torch

    from hwr_export.checkpoint import contract_for, save_checkpoint
    from hwr_export.model import CRNN, count_parameters
    from hwr_export.presets import get_preset
    from runtimes.recognizer import Recognizer

    config = get_preset(REFERENCE_PRESET)
    torch.manual_seed(0)
    model = CRNN(config).eval()
    sync = cuda_synchronizer(device)
    with tempfile.TemporaryDirectory(prefix="hwr-seed-") as tmp:
        path = Path(tmp) / "seed-random-weights.safetensors"
        save_checkpoint(model, path)
        recognizer = Recognizer.load(
            path, runtime=REFERENCE_RUNTIME, device=device, threads=threads
        )

        def one(image: Image.Image) -> Any:
            return recognizer.transcribe([image], batch_size=1)[0]

        warm_up(images, one, warmup)
        bar = tqdm(images, desc="seed reference b1", unit="line", leave=False, disable=not progress)
        _, seconds = time_each(bar, one, sync)
    return {
        "preset": REFERENCE_PRESET,
        "runtime": REFERENCE_RUNTIME,
        "weights": "random (timing only; accuracy not measured)",
        "parameters": count_parameters(model),
        "input_height": config.input_height,
        "lines": len(images),
        "batch_size": 1,
        "latency_ms": summarize_latency(seconds).to_dict(),
        "multiply_adds_per_line": mean_multiply_adds(config, contract_for(config), images),
    }


def speedups(
    reference: dict[str, Any], measurements: Sequence[Measurement]
) -> list[dict[str, Any]]:
    """Reference p50 / our p50 on the same lines: against our torch format (same runtime: what
    the architecture buys) and against our fastest format (what deployment buys on top)."""
    count = reference["lines"]
    ours = {
        m.format: subset_p50_ms(m.seconds, count) for m in measurements if not m.error and m.seconds
    }
    ours = {k: v for k, v in ours.items() if v}
    if not ours:
        return []
    chosen = ["torch"] if "torch" in ours else []
    fastest = min(ours, key=lambda k: ours[k])
    if fastest not in chosen:
        chosen.append(fastest)
    ref_p50 = reference["latency_ms"]["p50"]
    return [
        {
            "format": name,
            "ours_p50_ms": ours[name],
            "reference_p50_ms": ref_p50,
            "ratio": ref_p50 / ours[name],
            "compares": f"{REFERENCE_PRESET} in {REFERENCE_RUNTIME} eager vs {name}, batch 1, "
            f"p50 over the same {count} lines",
        }
        for name in chosen
    ]
