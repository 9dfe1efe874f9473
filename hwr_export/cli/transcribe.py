"""`hwr transcribe [MODEL] PATH...`: line images (or whole pages) to JSON lines, with any runtime.

    hwr transcribe lines/                          # bundled model, every image under lines/
    hwr transcribe model.onnx a.png b.png -o out.jsonl --decoder beam --lexicon words.txt
    hwr transcribe --pages scans/ --output-format page-xml -o xml/ --draw checked/

One JSON object per image, in input order: {"file", "text", "confidence"} or {"file", "error"},
with "warnings" (also on stderr) when an image does not look like one line or gives no text;
with --pages {"file", "text", "width", "height", "lines": [{"text", "confidence", "box",
"polygon", "baseline"}]}. A bad image is reported and the run goes on; the exit status is 1
only if nothing was readable. File names that are not valid UTF-8 are written with their odd
bytes as visible \\xNN escapes. Each line is written as soon as it is known; Ctrl-C keeps the
finished lines (valid JSONL).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from hwr_export.cli.common import InferenceThreadsOpt, fail, user_errors
from hwr_export.cli.pages_output import OutputFormat, PageWriter
from runtimes.base import RUNTIME_NAMES, Device
from runtimes.errors import HwrError, printable
from runtimes.formats import model_suffixes
from runtimes.preprocess import IMAGE_SUFFIXES
from runtimes.recognizer import PathResult, Recognizer

PROGRESS_MIN_FILES = 20  # a bar for a handful of lines is noise


# The --runtime choices, from the format registry (runtimes.formats).
RuntimeChoice = Enum("RuntimeChoice", {name: name for name in RUNTIME_NAMES}, type=str)  # type: ignore[misc]


class Engine(str, Enum):
    local = "local"  # this process
    ray = "ray"  # a Ray cluster (hwr_export.cli.bulk)


class Decoder(str, Enum):
    greedy = "greedy"
    beam = "beam"


def is_model_argument(text: str) -> bool:
    return text.startswith("hf://") or text.lower().endswith(model_suffixes())


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
    beam_width: Annotated[
        int | None,
        typer.Option(min=1, help="Beams kept by --decoder beam (default 10) or --lm (16)."),
    ] = None,
    lm: Annotated[
        str | None,
        typer.Option(
            "--lm",
            help="Decode with a word language model: 'en' (bundled English) or an ARPA / KenLM "
            "binary file (hwr lm build makes one). Needs: pip install 'hwr[lm]'.",
        ),
    ] = None,
    lm_alpha: Annotated[
        float | None, typer.Option(min=0, help="Weight of the LM (default 0.5).")
    ] = None,
    lm_beta: Annotated[
        float | None, typer.Option(help="Bonus per word with --lm (default 2.0).")
    ] = None,
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
    threads: InferenceThreadsOpt = None,
    pages: Annotated[
        bool,
        typer.Option("--pages", help="Each image is a page: find its lines, read them in order."),
    ] = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            help="With --pages: also write one PAGE-XML or ALTO v4 file per page into -o DIR."
        ),
    ] = OutputFormat.json,
    draw: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="With --pages: save each page with its lines outlined and numbered here.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="ray: a Ray cluster reads folders, path lists (.txt) and Parquet/JSONL "
            "manifests (a path column) into a resumable --output .jsonl/.parquet (hwr[scale])."
        ),
    ] = Engine.local,
    address: Annotated[
        str | None,
        typer.Option(help="With --engine ray: join this Ray cluster (default: start a local one)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="With --engine ray: actors, each with one model.")
    ] = 1,
) -> None:
    from hwr_export.cli.lm import open_lm
    from hwr_export.model.source import resolve_model

    model_arg = inputs[0] if inputs and is_model_argument(inputs[0]) else None
    paths = inputs[1:] if model_arg is not None else inputs
    if not paths:
        raise HwrError("no images given: hwr transcribe [MODEL] PATH...")
    if not pages and (output_format is not OutputFormat.json or draw is not None):
        raise HwrError("--output-format and --draw describe pages: add --pages")
    if engine is Engine.ray:
        if pages or threads is not None:
            raise HwrError(
                "--engine ray reads lines with one thread per worker: drop --pages/--threads"
            )
        if lm is not None:
            raise HwrError("--lm is not available with --engine ray yet: run it in-process")
        from hwr_export.cli.bulk import transcribe_bulk

        transcribe_bulk(
            resolve_model(model_arg),
            paths,
            output,
            workers,
            address,
            runtime=runtime.value if runtime else None,
            device=device.value,
            batch_size=batch_size,
            decoder=decoder.value,
            beam_width=beam_width or 10,
            lexicon=read_lexicon(lexicon) if lexicon else None,
        )
        return
    if address is not None or workers != 1:
        raise HwrError("--address and --workers are options of --engine ray")
    images = collect_images(paths)
    if not images:
        raise HwrError("no images to transcribe")
    language_model = open_lm(lm, beam_width, lm_alpha, lm_beta)
    recognizer = Recognizer.load(
        resolve_model(model_arg),
        runtime=runtime.value if runtime else None,
        device=device.value,
        threads=threads,
        decoder=decoder.value,
        beam_width=beam_width or 10,
        lexicon=read_lexicon(lexicon) if lexicon else None,
        lm=language_model,
    )
    if pages:
        _transcribe_pages(recognizer, images, batch_size, output, output_format, draw)
        return
    readable = 0
    quiet = not sys.stderr.isatty() or len(images) < PROGRESS_MIN_FILES
    with open_output(output) as stream, progress_bar(len(images), quiet) as bar:
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


class _NoBar:
    """What the loop needs of a tqdm bar, without importing tqdm (a log or a pipe gets no bar)."""

    def update(self, n: int = 1) -> None:
        pass

    def write(self, message: str, file: TextIO) -> None:
        print(message, file=file)


def progress_bar(total: int, quiet: bool) -> AbstractContextManager[Any]:
    if quiet:
        return nullcontext(_NoBar())
    from tqdm import tqdm

    return tqdm(total=total, unit="line", file=sys.stderr)


def _transcribe_pages(
    recognizer: Recognizer,
    images: list[Path],
    batch_size: int,
    output: Path | None,
    output_format: OutputFormat,
    draw: Path | None,
) -> None:
    from runtimes.pages._deps import require_page_libraries
    from runtimes.pages.reader import PageReader

    require_page_libraries()  # one line now, not one per page, if OpenCV or SciPy is missing
    reader = PageReader(recognizer, batch_size=batch_size)
    xml_dir = output if output_format is not OutputFormat.json else None
    json_out = None if xml_dir is not None else output
    readable = 0
    with open_output(json_out) as stream:
        writer = PageWriter(stream, output_format, xml_dir, draw)
        for path, result in reader.read_paths(images):
            if isinstance(result, str):
                writer.write_error(path, result)
            else:
                readable += 1
                writer.write(path, result)
    if readable == 0:
        raise fail(f"none of the {len(images)} pages could be read")
