"""`hwr export`: a checkpoint to TorchScript and ONNX (fp32, int8, fp16, ORT format), each verified.

    hwr export --format all --int8 --out exports/            # the bundled pretrained model
    hwr export run/best.safetensors --format onnx --fp16 --out exports/ --force

Files in --out are named after the checkpoint: <stem>.ts, <stem>.onnx, <stem>.int8.onnx,
<stem>.fp16.onnx, <stem>.ort. Each is written to a temporary file, verified, then renamed: a
failed check leaves nothing behind, and an existing file is kept unless --force.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli_common import user_errors
from runtimes.errors import HwrError

SUFFIXES = {
    "torchscript": ".ts",
    "onnx": ".onnx",
    "int8": ".int8.onnx",
    "fp16": ".fp16.onnx",
    "ort": ".ort",
}
FORMATS = {"torchscript", "onnx", "ort"}
VERIFY_LINES = 64  # lines of the --verify set (or synthetic lines) for the int8/fp16 check


class Format(str, Enum):
    torchscript = "torchscript"
    onnx = "onnx"
    all = "all"


def export_all(
    checkpoint: Path,
    out_dir: Path,
    formats: set[str],
    int8: bool,
    fp16: bool,
    calibration: str | None,
    verify: str | None,
    force: bool,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Path]:
    """Export ``checkpoint`` into ``out_dir``; returns {"torchscript"|"onnx"|"ort"|"int8"|"fp16": path}.

    ``formats`` holds "torchscript", "onnx", "ort" or "all"; int8/fp16/ort are made from the
    fp32 ONNX graph, which goes to a scratch folder when "onnx" itself is not wanted.
    """
    from hwr_export import verify as checks
    from hwr_export.checkpoint import load_checkpoint
    from hwr_export.export_onnx import export_onnx, export_ort
    from hwr_export.export_torchscript import export_torchscript
    from hwr_export.quantize import calibration_batches, export_fp16, export_int8, line_batches

    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    wanted = set(formats)
    if "all" in wanted:
        wanted = (wanted - {"all"}) | {"torchscript", "onnx"}
    unknown = wanted - FORMATS
    if unknown:
        raise HwrError(
            f"unknown export format {sorted(unknown)[0]!r}; choose from {', '.join(sorted(FORMATS))}"
        )
    names = wanted | ({"int8"} if int8 else set()) | ({"fp16"} if fp16 else set())
    targets = {name: out_dir / f"{checkpoint.stem}{SUFFIXES[name]}" for name in names}
    if not force:  # refuse before any work, not after minutes of calibration
        for path in targets.values():
            if path.exists():
                raise HwrError(f"{path}: already exists (use --force to overwrite)")
    model, contract = load_checkpoint(checkpoint)
    original = checks.reference_runner(model, contract)
    done: dict[str, Path] = {}
    found: list[checks.CheckResult] = []  # filled by the check of the export in progress

    def exact(name: str, runner: Callable[[Path], checks.RunFn]) -> Callable[[Path], None]:
        return lambda p: found.append(checks.verify_exact(name, original, runner(p), contract))

    def report(name: str, path: Path) -> None:
        done[name] = path
        log(f"{name}: {path} ({path.stat().st_size / 1e6:.2f} MB); {found[-1].summary()}")

    if "torchscript" in wanted:
        path = export_torchscript(
            model,
            contract,
            targets["torchscript"],
            force,
            exact("torchscript", checks.torchscript_runner),
        )
        report("torchscript", path)
    if not names - {"torchscript"}:
        return done
    with tempfile.TemporaryDirectory(prefix="hwr-export-") as scratch:
        fp32 = targets.get("onnx", Path(scratch) / f"{checkpoint.stem}.onnx")
        export_onnx(model, contract, fp32, force=True, check=exact("onnx", checks.onnx_runner))
        if "onnx" in wanted:
            report("onnx", fp32)
        if "ort" in wanted:
            report("ort", export_ort(fp32, targets["ort"], force, exact("ort", checks.onnx_runner)))
        if not (int8 or fp16):
            return done
        lines = line_batches(
            verify or calibration or f"synthetic:{VERIFY_LINES}",
            ("validation", "test", "train"),
            contract,
            VERIFY_LINES,
            batch_size=8,
        )
        on = f"{len(lines)} batches of {verify or calibration or 'synthetic'} lines"
        fp32_runner = checks.onnx_runner(fp32)

        def close(name: str, runner: Callable[[Path], checks.RunFn]) -> Callable[[Path], None]:
            return lambda p: found.append(
                checks.verify_close(name, fp32_runner, runner(p), lines, contract, on)
            )

        if int8:
            batches = calibration_batches(calibration, contract)
            path = export_int8(
                fp32, targets["int8"], batches, force, close("int8", checks.onnx_runner)
            )
            report("int8", path)
        if fp16:
            path = export_fp16(fp32, targets["fp16"], force, close("fp16", fp16_runner()))
            report("fp16", path)
    return done


def fp16_runner() -> Callable[[Path], object]:
    """CUDA where ONNX Runtime has it (what fp16 is for), else the CPU provider's safe path."""
    import onnxruntime as ort

    from hwr_export import verify as checks

    if "CUDAExecutionProvider" in ort.get_available_providers():
        return lambda path: checks.onnx_runner(path, device="cuda")
    return checks.fp16_cpu_runner


@user_errors
def export_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the exported files.", file_okay=False)
    ],
    checkpoint: Annotated[
        str | None,
        typer.Argument(
            help="A .safetensors checkpoint or hf://repo/file (default: the bundled model)."
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="What to export.")] = Format.all,
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write a static int8 ONNX model (CPU).")
    ] = False,
    fp16: Annotated[
        bool, typer.Option("--fp16", help="Also write an fp16 ONNX model (CUDA).")
    ] = False,
    ort: Annotated[
        bool, typer.Option("--ort", help="Also write ONNX Runtime's .ort format.")
    ] = False,
    calibration: Annotated[
        str | None,
        typer.Option(
            help="int8 calibration lines: a folder, synthetic:N or a hub id (default: synthetic:200)."
        ),
    ] = None,
    verify: Annotated[
        str | None,
        typer.Option(
            help="Lines for the int8/fp16 accuracy check (default: the calibration source)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    from hwr_export.model_source import resolve_model

    if (int8 or fp16 or ort) and format == Format.torchscript:
        raise HwrError("--int8, --fp16 and --ort are ONNX exports: use --format onnx or all")
    path = resolve_model(checkpoint)
    formats = {format.value} | ({"ort"} if ort else set())
    export_all(path, out, formats, int8, fp16, calibration, verify, force, log=typer.echo)
