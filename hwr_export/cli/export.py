"""`hwr export`: a checkpoint to TorchScript and ONNX (fp32, int8, fp16, ORT format), each verified.

    hwr export --format all --int8 --out exports/            # the bundled pretrained model
    hwr export run/best.safetensors --format onnx --fp16 --out exports/ --force
    hwr export --format web --out site/   # index.html, hwr.js, ONNX Runtime Web, the int8 model

Files in --out are named after the checkpoint: <stem>.ts, <stem>.onnx, <stem>.int8.onnx,
<stem>.fp16.onnx, <stem>.ort. Each is written to a temporary file, verified, then renamed: a
failed check leaves nothing behind, and an existing file is kept unless --force.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors
from runtimes.errors import HwrError
from runtimes.formats import by_export_option, export_formats

ALL = "all"
WEB = "web"  # a static folder for the browser (hwr_export/export/web.py), not a model format
# The --format choices: every registry format made by `--format X`, all of them, and the web page.
Format = Enum("Format", {name: name for name in (*export_formats(), ALL, WEB)}, type=str)  # type: ignore[misc]


def requested_formats(format: str, flags: dict[str, bool]) -> frozenset[str]:
    """Registry names for a --format value and the flags set ({"--int8": True, ...})."""
    names = set(export_formats()) if format == ALL else {format}
    names |= {by_export_option(option).name for option, on in flags.items() if on}
    return frozenset(names)


class WebModel(str, Enum):
    int8 = "int8"
    fp32 = "fp32"
    both = "both"  # int8 is the page's default, fp32 sits beside it


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
    format: Annotated[Format, typer.Option("--format", "-f", help="What to export.")] = Format[ALL],
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
    web_model: Annotated[
        WebModel, typer.Option("--web-model", help="The model(s) of --format web.")
    ] = WebModel.int8,
) -> None:
    from hwr_export.export.pipeline import ExportRequest, export_all
    from hwr_export.model.source import resolve_model

    if (int8 or fp16 or ort) and format.value == "torchscript":
        raise HwrError("--int8, --fp16 and --ort are ONNX exports: use --format onnx or all")
    path = resolve_model(checkpoint)
    if format.value == WEB and (int8 or fp16 or ort):
        raise HwrError("--int8, --fp16 and --ort are not for --format web: use --web-model")
    try:
        if format.value == WEB:
            from hwr_export.export.web import write_web

            models = ["int8", "fp32"] if web_model == WebModel.both else [web_model.value]
            write_web(path, out, models, calibration, verify, force, log=typer.echo)
            return
        formats = requested_formats(format.value, {"--int8": int8, "--fp16": fp16, "--ort": ort})
        export_all(ExportRequest(path, out, formats, calibration, verify, force), log=typer.echo)
    except OSError as exc:  # e.g. --out on a read-only disk or a full one
        raise HwrError(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
