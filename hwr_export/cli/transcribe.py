"""`hwr transcribe [MODEL] PATH...`: line images to JSON lines, with any runtime.

    hwr transcribe lines/                          # bundled model, every image under lines/
    hwr transcribe model.onnx a.png b.png -o out.jsonl --decoder beam --lexicon words.txt

One JSON object per image, in input order: {"file", "text", "confidence"} or {"file", "error"},
with "warnings" (also on stderr) when an image does not look like one line or gives no text.
A bad image is reported and the run goes on; the exit status is 1 only if nothing was readable.
File names that are not valid UTF-8 are written with their odd bytes as visible \\xNN escapes.
Each line is written as soon as it is known; Ctrl-C keeps the finished lines (valid JSONL).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from hwr_export.cli.common import fail, user_errors
from runtimes.errors import HwrError, printable
from runtimes.preprocess import IMAGE_SUFFIXES
from runtimes.recognizer import SUFFIX_RUNTIME, PathResult

PROGRESS_MIN_FILES = 20  # a bar for a handful of lines is noise


class RuntimeChoice(str, Enum):
    torch = "torch"
    torchscript = "torchscript"
    onnx = "onnx"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


class Decoder(str, Enum):
    greedy = "greedy"
    beam = "beam"


def is_model_argument(text: str) -> bool:
    return text.startswith("hf://") or Path(text).suffix.lower() in SUFFIX_RUNTIME


def collect_images(paths: list[str]) -> list[Path]:
    """Files as given (an unreadable one becomes an error line), folders searched recursively."""
    images: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                typer.echo(f"hwr: warning: {printable(str(path))}: no images found", err=True)
            images += found
        else:
            images.append(path)
    return images


def read_lexicon(path: Path) -> list[str]:
    try:
        words = path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise HwrError(f"{path}: cannot read lexicon ({exc})") from None
    if not words:
        raise HwrError(f"{path}: the lexicon is empty")
    return words


@contextmanager
def open_output(output: Path | None) -> Iterator[TextIO]:
    """stdout, or a temporary file renamed over ``output`` when the run ends, also by Ctrl-C:
    lines are written whole and flushed, so the finished ones are kept as valid JSON lines."""
    if output is None:
        yield sys.stdout
        return
    from hwr_export.atomic import Outputs

    with Outputs(force=True) as outputs:
        stream = outputs.stage(output).open("w", encoding="utf-8")
        try:
            yield stream
        except KeyboardInterrupt:
            stream.close()
            outputs.commit()
            raise HwrError(f"interrupted; the results finished so far are in {output}") from None
        finally:
            stream.close()


def json_record(result: PathResult) -> str:
    """One JSON line; the file name always valid UTF-8 (see ``printable``)."""
    record: dict[str, object] = {"file": printable(str(result.path))}
    if result.prediction is None:
        record["error"] = printable(result.error or "no result")
    else:
        record["text"] = result.prediction.text
        record["confidence"] = round(result.prediction.confidence, 4)
    if result.warnings:
        record["warnings"] = list(result.warnings)
    return json.dumps(record, ensure_ascii=False) + "\n"


@user_errors
def transcribe_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUTS",
            help="[MODEL] PATH...: an optional model (.onnx .ort .safetensors .pt .ts, hf://; "
            "default: the bundled model), then image files or folders (searched recursively).",
        ),
    ],
    runtime: Annotated[
        RuntimeChoice | None,
        typer.Option(help="Runtime (default: from the model file type)."),
    ] = None,
    device: Annotated[Device, typer.Option(help="cuda fails loudly if unavailable.")] = Device.cpu,
    batch_size: Annotated[int, typer.Option(min=1, help="Lines per batch.")] = 16,
    decoder: Annotated[Decoder, typer.Option(help="CTC decoding.")] = Decoder.greedy,
    beam_width: Annotated[int, typer.Option(min=1, help="Beams kept by --decoder beam.")] = 10,
    lexicon: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Word list (whitespace-separated); each decoded word snaps to the closest one.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write JSON lines here, not stdout."),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads for inference.")] = None,
) -> None:
    from tqdm import tqdm

    from hwr_export.model.source import resolve_model
    from runtimes.recognizer import Recognizer

    model_arg = inputs[0] if inputs and is_model_argument(inputs[0]) else None
    paths = inputs[1:] if model_arg is not None else inputs
    if not paths:
        raise HwrError("no images given: hwr transcribe [MODEL] PATH...")
    images = collect_images(paths)
    if not images:
        raise HwrError("no images to transcribe")
    recognizer = Recognizer.load(
        resolve_model(model_arg),
        runtime=runtime.value if runtime else None,
        device=device.value,
        threads=threads,
        decoder=decoder.value,
        beam_width=beam_width,
        lexicon=read_lexicon(lexicon) if lexicon else None,
    )
    readable = 0
    quiet = not sys.stderr.isatty() or len(images) < PROGRESS_MIN_FILES
    with (
        open_output(output) as stream,
        tqdm(total=len(images), unit="line", file=sys.stderr, disable=quiet) as bar,
    ):
        for result in recognizer.transcribe_paths(images, batch_size):
            readable += result.prediction is not None
            for warning in result.warnings:
                bar.write(
                    f"hwr: warning: {printable(str(result.path))}: {warning}", file=sys.stderr
                )
            stream.write(json_record(result))
            stream.flush()
            bar.update(1)
    if readable == 0:
        raise fail(f"none of the {len(images)} images could be read")
