"""`hwr transcribe --engine ray`: the CLI side of bulk transcription (runtimes.bulk).

    hwr transcribe model.onnx archive/ more.parquet --engine ray --workers 8 -o out.jsonl
    hwr transcribe model.onnx paths.txt --engine ray --address head:6379 -o out.parquet

Same records as the in-process engine, in input order; a rerun with the same --output skips
the images it holds already.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hwr_export.cli.common import fail
from runtimes.errors import HwrError, printable
from runtimes.recognizer import PathResult


def transcribe_bulk(
    model: Path,
    inputs: list[str],
    output: Path | None,
    workers: int,
    address: str | None,
    *,
    runtime: str | None,
    device: str,
    batch_size: int,
    decoder: str,
    beam_width: int,
    lexicon: list[str] | None,
) -> None:
    from tqdm import tqdm

    from hwr_export.cli.transcribe import json_record
    from runtimes.bulk.engine import RecognizerSpec, require_ray, transcribe_on_ray
    from runtimes.bulk.inputs import expand_inputs
    from runtimes.bulk.sinks import open_sink, result_key
    from runtimes.recognizer import Recognizer

    if output is None:
        raise HwrError(
            "--engine ray writes to --output FILE (.jsonl or .parquet), which a rerun resumes"
        )
    require_ray()
    sink = open_sink(output, json_record)
    paths = expand_inputs(inputs)
    if not paths:
        raise HwrError("no images to transcribe")
    # A bad model is one line here, not a failed actor on every node.
    Recognizer.load(model, runtime=runtime, device="cpu", threads=1, decoder=decoder)
    done = sink.done()
    todo = [p for p in paths if result_key(p) not in done]
    if done:
        typer.echo(
            f"hwr: {len(paths) - len(todo)} of {len(paths)} images are in {output} already; "
            f"transcribing the other {len(todo)}",
            err=True,
        )
    if not todo:
        sink.finish()
        return
    spec = RecognizerSpec.from_file(
        model,
        runtime=runtime,
        device=device,
        decoder=decoder,
        beam_width=beam_width,
        lexicon=tuple(lexicon) if lexicon is not None else None,
        batch_size=batch_size,
    )
    readable = written = 0
    pending: list[PathResult] = []
    quiet = not sys.stderr.isatty()
    try:
        with tqdm(total=len(todo), unit="line", file=sys.stderr, disable=quiet) as bar:
            for result in transcribe_on_ray(spec, todo, workers, address):
                readable += result.prediction is not None
                for warning in result.warnings:
                    bar.write(
                        f"hwr: warning: {printable(str(result.path))}: {warning}", file=sys.stderr
                    )
                pending.append(result)
                if len(pending) >= batch_size:
                    sink.write(pending)
                    written, pending = written + len(pending), []
                    bar.update(batch_size)
    except KeyboardInterrupt:
        raise HwrError(
            f"interrupted; {len(paths) - len(todo) + written + len(pending)} of {len(paths)} "
            f"images are in {output}: rerun the same command to finish"
        ) from None
    finally:
        sink.write(pending)  # finished results are kept, whatever stopped the run
        sink.close()
    sink.finish()
    if readable == 0:
        raise fail(f"none of the {len(todo)} images could be read")
