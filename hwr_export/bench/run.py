"""One benchmark run, start to finish: resolve the model, export what is missing, measure every
format on the same lines, score it against the original, time the reference, apply the gate.

The result is a plain JSON-ready dict; ``report`` and ``plot`` only read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hwr_export.bench.exports import FORMATS, ORIGINAL, ensure_exports, export_folder, file_digest
from hwr_export.bench.gate import Thresholds, check_parity
from hwr_export.bench.machine import machine_info
from hwr_export.bench.measure import Measurement, measure_format
from hwr_export.bench.metrics import score
from hwr_export.bench.reference import (
    DEFAULT_REFERENCE_LINES,
    compared_formats,
    mean_multiply_adds,
    measure_reference,
)
from hwr_export.bench.results import FormatResult
from hwr_export.bench.table import PUBLISHED_REFERENCE
from runtimes.errors import HwrError, RuntimeUnavailableError

SCHEMA = "hwr-bench/1"
MEMORY_NOTE = (
    "growth of the process's peak resident set size (Linux VmHWM, reset per format through "
    "/proc/self/clear_refs) from loading the model to the end of its last batch; it includes "
    "native memory of torch / ONNX Runtime (host memory only, not GPU memory)"
)


@dataclass
class BenchConfig:
    model: str | None  # checkpoint path, hf://, or None for the bundled model
    data: str
    device: str = "cpu"
    formats: list[str] = field(default_factory=lambda: ["torch"])
    batch_sizes: list[int] = field(default_factory=lambda: [1, 16])
    split: str = "validation"
    limit: int | None = None
    threads: int | None = None
    cache_dir: Path | None = None
    calibration: str | None = None  # int8 calibration lines (None: the exporter's default)
    vs_seed: bool = True
    seed_lines: int = DEFAULT_REFERENCE_LINES
    warmup: int = 3
    check: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    progress: bool = True
    command: str | None = None  # the invocation, as recorded in the result
    lm: str | None = None  # also compare greedy with this language model's decoding ("en", file)


def require_device(device: str, formats: list[str]) -> None:
    """Refuse a CUDA run that would silently fall back to the CPU."""
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise RuntimeUnavailableError("--device cuda: no CUDA GPU is available to torch here")
    if any(FORMATS[f].runtime == "onnx" for f in formats):
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise RuntimeUnavailableError(
                "--device cuda: onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)"
            )


def _load_lines(config: BenchConfig) -> tuple[list[Any], list[str], list[str]]:
    from hwr_export.data.sources import open_lines

    samples = open_lines(config.data, split=config.split, limit=config.limit)
    images = [s.image for s in samples]  # decoded once, outside every timed region
    return images, [s.text for s in samples], [s.name for s in samples]


def _format_row(
    m: Measurement, original: Measurement, references: list[str], macs: float
) -> FormatResult:
    spec = FORMATS[m.format]
    row = FormatResult(
        format=m.format,
        runtime=spec.runtime,
        precision=spec.precision,
        file=str(m.path),
        file_bytes=m.path.stat().st_size if m.path.is_file() else None,
        multiply_adds_per_line=macs,
        error=m.error,
    )
    if m.error:
        return row
    compared = not original.error  # else nothing to compare with: no delta, no agreement
    acc = score(references, m.texts, original.texts if compared else m.texts, m.confidences)
    return replace(
        row,
        cer=acc.cer,
        wer=acc.wer,
        cer_delta_points=acc.cer_delta_points if compared else None,
        wer_delta_points=acc.wer_delta_points if compared else None,
        agreement=acc.agreement if compared else None,
        char_agreement=acc.char_agreement if compared else None,
        mean_confidence=acc.mean_confidence,
        latency_ms=m.latency.to_dict() if m.latency else None,
        throughput_lines_per_s=m.throughput,
        cold_start_ms=m.cold_start_ms,
        peak_rss_delta_mib=m.peak_rss_delta_mib,
        threads=m.threads.to_json() if m.threads else None,
    )


def run_bench(config: BenchConfig) -> dict[str, Any]:
    from hwr_export import __version__
    from hwr_export.model.checkpoint import read_checkpoint_metadata
    from hwr_export.model.crnn import CRNN, count_parameters
    from hwr_export.model.source import resolve_model
    from runtimes.formats import is_checkpoint

    require_device(config.device, config.formats)
    if config.lm:  # a bad language model fails now, not after every format was measured
        from runtimes.lm import LanguageModel

        LanguageModel.load(config.lm)
    checkpoint = resolve_model(config.model)
    if not is_checkpoint(checkpoint):
        raise HwrError(
            f"{checkpoint}: bench needs the PyTorch checkpoint (.safetensors) as the original; "
            "it exports the other formats itself"
        )
    arch, contract = read_checkpoint_metadata(checkpoint)
    images, references, _ = _load_lines(config)
    digest = file_digest(checkpoint)
    folder = export_folder(checkpoint, config.cache_dir, digest, config.calibration)
    paths, export_errors = ensure_exports(checkpoint, folder, config.formats, config.calibration)
    if any(FORMATS[f].runtime == "onnx" for f in config.formats):
        import onnxruntime  # noqa: F401 - imported now so no cold start pays for the import

    measurements = [
        Measurement(name, FORMATS[name].runtime, paths[name], error=export_errors[name])
        if name in export_errors
        else measure_format(
            name,
            FORMATS[name].runtime,
            paths[name],
            images,
            config.batch_sizes,
            config.device,
            config.threads,
            config.warmup,
            config.progress,
        )
        for name in config.formats
    ]
    original = next(m for m in measurements if m.format == ORIGINAL)
    macs = mean_multiply_adds(arch, contract, images)
    rows = [_format_row(m, original, references, macs) for m in measurements]

    reference = None
    if config.vs_seed:
        subset = images[: max(1, min(config.seed_lines, len(images)))]
        compared = {f: (FORMATS[f].runtime, paths[f]) for f in compared_formats(measurements)}
        reference = measure_reference(
            subset, compared, config.device, config.threads, config.progress
        )

    failures = check_parity(rows, config.thresholds) if config.check else []
    decoding = _decoding(config, checkpoint, folder, images, references) if config.lm else None
    return {
        "schema": SCHEMA,
        "hwr_version": __version__,
        "command": config.command,
        "model": {
            "name": checkpoint.name,
            "path": str(checkpoint),
            "sha256": digest,
            "preset": arch.name,
            "parameters": count_parameters(CRNN(arch)),
            "input_height": contract.input_height,
            "exports": str(folder),
        },
        "data": {
            "spec": config.data,
            "split": config.split,
            "lines": len(images),
            "mean_input_width": _mean_input_width(images, contract),
            "multiply_adds_per_line": macs,
        },
        "settings": {
            "device": config.device,
            "formats": config.formats,
            "batch_sizes": config.batch_sizes,
            "limit": config.limit,
            "threads": config.threads,
            "warmup": config.warmup,
            "vs_seed": config.vs_seed,
            "calibration": config.calibration,
        },
        "machine": machine_info(config.device, config.threads),
        "formats": [row.to_json() for row in rows],
        "reference": reference,
        "decoding": decoding,
        "parity": {
            "checked": config.check,
            "thresholds": config.thresholds.to_dict(),
            "failures": [asdict(f) for f in failures],
            "passed": not failures,
        },
        "memory_note": MEMORY_NOTE,
        "published_reference": PUBLISHED_REFERENCE,
    }


def _decoding(
    config: BenchConfig, checkpoint: Path, folder: Path, images: list[Any], references: list[str]
) -> dict[str, Any]:
    """Greedy vs LM decoding on the fp32 ONNX export (``bench.lm``); per-line texts dropped."""
    from hwr_export.bench.lm import measure_decoding

    paths, errors = ensure_exports(checkpoint, folder, ["onnx"], config.calibration)
    if "onnx" in errors:
        raise HwrError(f"{checkpoint}: {errors['onnx']}")
    assert config.lm is not None
    decoding = measure_decoding(paths["onnx"], images, references, config.lm, config.threads)
    for row in decoding["rows"]:
        del row["texts"]
    return decoding


def _mean_input_width(images: list[Any], contract: Any) -> float:
    from runtimes.preprocess import to_model_input

    widths = [to_model_input(image, contract).shape[1] for image in images]
    return sum(widths) / max(len(widths), 1)
