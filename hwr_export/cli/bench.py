"""`hwr bench` (accuracy parity and speed of every format) and `hwr parity` (the gate alone)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from hwr_export.cli.common import user_errors
from runtimes.base import Device
from runtimes.formats import FORMATS

PARITY_DEFAULT_LIMIT = 50


ModelArg = Annotated[
    str | None,
    typer.Argument(help="Checkpoint (.safetensors), hf://owner/repo, or omitted: bundled model."),
]
DataOpt = Annotated[
    str, typer.Option(help="synthetic[:N], a local folder, or a Hugging Face dataset id.")
]
SplitOpt = Annotated[str, typer.Option(help="Dataset split.")]
DeviceOpt = Annotated[Device, typer.Option(help="cuda fails if no GPU is usable (no fallback).")]
FormatsOpt = Annotated[
    str | None,
    typer.Option(
        help=f"Comma list of {','.join(FORMATS)} "
        "(default cpu: torch,torchscript,onnx,onnx-int8; cuda: torch,onnx,onnx-fp16). "
        "torch, the original, is always measured."
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Intra-op threads, one batch at a time (default: the measured plan of "
        "runtimes/threads.py for ONNX, PyTorch's own for torch).",
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        help="Where exports are cached, by checkpoint hash (default ~/.cache/hwr/exports)."
    ),
]
CalibrationOpt = Annotated[
    str | None,
    typer.Option(help="int8 calibration lines for the export (default: the exporter's own)."),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the full result as JSON.")]
FpDeltaOpt = Annotated[
    float, typer.Option(help="Gate: max CER rise over the original, points (torchscript, onnx).")
]
ReducedDeltaOpt = Annotated[
    float, typer.Option(help="Gate: max CER rise over the original, points (int8, fp16).")
]
AgreeOpt = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Gate: min share of lines transcribed exactly as the original, for every format "
        "(default: 0.95 for fp32 formats; int8/fp16 are instead held to 97% of characters "
        "matching the original's transcripts, which this option does not change).",
    ),
]
ProgressOpt = Annotated[bool, typer.Option(help="Progress bars on stderr.")]


def command_line(ctx: typer.Context) -> str:
    """The invocation written out with every non-default option, for the result record
    (``sys.argv`` would name the test runner or spec script instead)."""
    import shlex

    parts = ["hwr", ctx.info_name or "bench"]
    # Arguments first, as a person would type them.
    params = sorted(ctx.command.params, key=lambda p: p.param_type_name != "argument")
    for param in params:
        value = ctx.params.get(param.name or "")
        if value is None or value == param.default:
            continue
        value = value.value if isinstance(value, Enum) else value
        if param.param_type_name == "argument":
            parts.append(str(value))
        elif isinstance(value, bool):
            flags = param.opts if value else param.secondary_opts
            parts.append(flags[0])
        else:
            parts += [param.opts[0], str(value)]
    return " ".join(shlex.quote(part) for part in parts)


def _shared(
    ctx: typer.Context, gate: tuple[float, float, float | None], **settings: Any
) -> dict[str, Any]:
    """BenchConfig fields that `hwr bench` and `hwr parity` set alike."""
    from hwr_export.bench.gate import Thresholds

    return {
        **settings,
        "thresholds": Thresholds.from_options(*gate),
        "command": command_line(ctx),
    }


def _run(
    model: str | None,
    data: str,
    device: Device,
    formats: str | None,
    batch_sizes: str,
    **settings: Any,
) -> dict[str, Any]:
    from hwr_export.bench.exports import parse_batch_sizes, parse_formats
    from hwr_export.bench.run import BenchConfig, run_bench

    config = BenchConfig(
        model=model,
        data=data,
        device=device.value,
        formats=parse_formats(formats, device.value),
        batch_sizes=parse_batch_sizes(batch_sizes),
        **settings,
    )
    return run_bench(config)


def _finish(
    result: dict[str, Any],
    json_out: Path | None,
    markdown: Path | None = None,
    plot: Path | None = None,
) -> None:
    """Print the table, write the requested files, then fail if the gate did."""
    from hwr_export.bench import report

    typer.echo(report.format_text(result), nl=False)
    if json_out:
        report.write_json(result, json_out)
    if markdown:
        report.write_markdown(result, markdown)
    if plot:
        from hwr_export.bench.plot import write_plot

        write_plot(result, plot)
    for path in filter(None, (json_out, markdown, plot)):
        typer.echo(f"wrote {path}")
    failures = result["parity"]["failures"]
    for failure in failures:
        typer.echo(f"hwr: parity FAILED: {failure['format']}: {failure['reason']}", err=True)
    if failures:
        raise typer.Exit(1)


@user_errors
def bench_command(
    ctx: typer.Context,
    data: DataOpt,
    model: ModelArg = None,
    split: SplitOpt = "validation",
    device: DeviceOpt = Device.cpu,
    formats: FormatsOpt = None,
    batch_sizes: Annotated[
        str, typer.Option(help="Throughput batch sizes; latency is always batch 1.")
    ] = "1,16",
    limit: Annotated[int | None, typer.Option(min=1, help="Use only the first N lines.")] = None,
    json_out: JsonOpt = None,
    markdown: Annotated[
        Path | None, typer.Option(help="Write a Markdown section for a README.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a latency-vs-CER PNG.")] = None,
    check: Annotated[bool, typer.Option(help="Apply the parity gate; exit 1 if it fails.")] = False,
    vs_seed: Annotated[
        bool, typer.Option(help="Also time the reference (seed) architecture side by side.")
    ] = True,
    seed_lines: Annotated[
        int, typer.Option(min=1, help="Lines the slow reference is timed on.")
    ] = 20,
    results_dir: Annotated[
        Path | None,
        typer.Option(help="Write JSON, Markdown and PNG to DIR/<machine>/<name>.*"),
    ] = None,
    name: Annotated[str, typer.Option(help="File stem under --results-dir.")] = "bench",
    cache_dir: CacheOpt = None,
    calibration: CalibrationOpt = None,
    threads: ThreadsOpt = None,
    max_cer_delta_fp32: FpDeltaOpt = 0.1,
    max_cer_delta_reduced: ReducedDeltaOpt = 0.5,
    min_agreement: AgreeOpt = None,
    progress: ProgressOpt = True,
    lm: Annotated[
        str | None,
        typer.Option(
            "--lm",
            help="Also compare greedy with language-model decoding ('en' or an ARPA / KenLM "
            "file) on the fp32 ONNX logits: CER, WER, ms per line.",
        ),
    ] = None,
    pages: Annotated[
        bool,
        typer.Option(
            "--pages",
            help="Page mode: compose pages from --data (IAM: one per form), read them whole; "
            "page vs line CER, line detection, ms per page (--limit counts pages).",
        ),
    ] = False,
) -> None:
    if pages:
        _page_bench(
            ctx,
            model,
            data,
            split,
            limit,
            threads,
            cache_dir,
            json_out,
            markdown,
            results_dir,
            name,
        )
        return
    gate = (max_cer_delta_fp32, max_cer_delta_reduced, min_agreement)
    shared = _shared(ctx, gate, split=split, limit=limit, threads=threads, progress=progress)
    result = _run(
        model,
        data,
        device,
        formats,
        batch_sizes,
        cache_dir=cache_dir,
        calibration=calibration,
        vs_seed=vs_seed,
        seed_lines=seed_lines,
        check=check,
        lm=lm,
        **shared,
    )
    if results_dir:
        from hwr_export.bench.report import results_paths

        paths = results_paths(result, results_dir, name)
        json_out, markdown, plot = (
            json_out or paths["json"],
            markdown or paths["md"],
            plot or paths["png"],
        )
    _finish(result, json_out, markdown, plot)


@user_errors
def parity_command(
    ctx: typer.Context,
    data: DataOpt,
    model: ModelArg = None,
    split: SplitOpt = "validation",
    device: DeviceOpt = Device.cpu,
    formats: FormatsOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Lines to compare.")] = PARITY_DEFAULT_LIMIT,
    json_out: JsonOpt = None,
    cache_dir: CacheOpt = None,
    calibration: CalibrationOpt = None,
    threads: ThreadsOpt = None,
    max_cer_delta_fp32: FpDeltaOpt = 0.1,
    max_cer_delta_reduced: ReducedDeltaOpt = 0.5,
    min_agreement: AgreeOpt = None,
    progress: ProgressOpt = True,
) -> None:
    gate = (max_cer_delta_fp32, max_cer_delta_reduced, min_agreement)
    shared = _shared(ctx, gate, split=split, limit=limit, threads=threads, progress=progress)
    settings = {"cache_dir": cache_dir, "calibration": calibration, "vs_seed": False}
    result = _run(model, data, device, formats, "1", check=True, **settings, **shared)
    _finish(result, json_out)
    typer.echo(f"parity passed: {', '.join(result['settings']['formats'][1:])} match the original")


def _page_bench(
    ctx: typer.Context,
    model: str | None,
    data: str,
    split: str,
    limit: int | None,
    threads: int | None,
    cache_dir: Path | None,
    json_out: Path | None,
    markdown: Path | None,
    results_dir: Path | None,
    name: str,
) -> None:
    """Reads pages with the ONNX fp32 export of a checkpoint (cached), or the model file given."""
    from hwr_export.atomic import atomic_write_text
    from hwr_export.bench.pages import PageBenchConfig, format_markdown, run_page_bench
    from hwr_export.bench.report import results_paths, write_json
    from hwr_export.model.source import resolve_model
    from runtimes.errors import HwrError

    path = resolve_model(model)
    if path.suffix == ".safetensors":
        from hwr_export.bench.exports import ensure_exports, export_folder

        paths, errors = ensure_exports(path, export_folder(path, cache_dir), ["onnx"])
        if errors:
            raise HwrError(errors["onnx"])
        path = paths["onnx"]
    config = PageBenchConfig(path, data, split, limit, threads=threads, command=command_line(ctx))
    result = run_page_bench(config)
    if results_dir:
        stem = name if name != "bench" else "pages"
        found = results_paths(result, results_dir, stem)
        json_out, markdown = json_out or found["json"], markdown or found["md"]
    text = format_markdown(result)
    typer.echo(text, nl=False)
    if json_out:
        write_json(result, json_out)
    if markdown:
        atomic_write_text(markdown, text)
    for written in filter(None, (json_out, markdown)):
        typer.echo(f"wrote {written}")
