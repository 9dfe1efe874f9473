"""`hwr serve [MODEL]`: the HTTP recognition service (needs the extra: pip install 'hwr[serve]').

    hwr serve                                   # bundled model as fp32 ONNX, 127.0.0.1:8000
    hwr serve model.onnx --port 9000 --api-key "$KEY" --threads 1
    curl -F file=@line.png http://127.0.0.1:8000/transcribe

A checkpoint (.safetensors, the bundled model included) is exported to fp32 ONNX once, into the
export cache, and served with ONNX Runtime, unless ``--runtime torch`` asks for PyTorch itself.
The service lives in ``runtimes.serve``; this module only turns options into its config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import InferenceThreadsOpt, fail, user_errors
from hwr_export.cli.transcribe import Decoder, RuntimeChoice, read_lexicon
from runtimes.base import Device

MIB = 1 << 20


def served_model_path(
    spec: str | None, runtime: str | None, cache_dir: Path | None
) -> tuple[Path, Path | None]:
    """The file to serve (the model as given, or a checkpoint's cached fp32 ONNX export) and
    the checkpoint it was exported from, if it was."""
    from hwr_export.bench.exports import ensure_exports, export_folder
    from hwr_export.model.source import resolve_model
    from runtimes.errors import HwrError

    path = resolve_model(spec)
    if path.suffix.lower() != ".safetensors" or runtime == "torch":
        return path, None
    if runtime not in (None, "onnx"):
        raise HwrError(
            f"{path}: a checkpoint is served with --runtime onnx or torch, not {runtime}"
        )
    typer.echo(f"hwr: using the fp32 ONNX export of {path.name} (made once, then cached)", err=True)
    paths, errors = ensure_exports(path, export_folder(path, cache_dir), ["onnx"])
    if "onnx" in errors:
        raise HwrError(f"{path}: {errors['onnx']}")
    return paths["onnx"], path


@user_errors
def serve_command(
    model: Annotated[
        str | None,
        typer.Argument(help="Model (.onnx .ort .safetensors .pt .ts, hf://); default: bundled."),
    ] = None,
    runtime: Annotated[
        RuntimeChoice | None,
        typer.Option(help="Runtime (default: onnx; a checkpoint is exported to ONNX first)."),
    ] = None,
    device: Annotated[Device, typer.Option(help="cuda fails loudly if unavailable.")] = Device.cpu,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless told.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="HWR_API_KEY",
            show_default=False,
            help="Require 'Authorization: Bearer KEY' on every route but /health.",
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Allow this browser origin (repeatable); CORS is off without one."),
    ] = None,
    max_batch_size: Annotated[
        int, typer.Option(min=1, help="Lines per micro-batch; 1 turns micro-batching off.")
    ] = 16,
    max_wait_ms: Annotated[
        float, typer.Option(min=0, help="How long a batch waits for more lines.")
    ] = 5.0,
    max_upload_mb: Annotated[float, typer.Option(min=0.001, help="Request body limit.")] = 10.0,
    max_pixels: Annotated[int, typer.Option(min=1, help="Pixels per image.")] = 16_000_000,
    max_images: Annotated[int, typer.Option(min=1, help="Images per request.")] = 64,
    timeout: Annotated[float, typer.Option(min=0.001, help="Request timeout, seconds.")] = 30.0,
    threads: InferenceThreadsOpt = None,
    decoder: Annotated[Decoder, typer.Option(help="CTC decoding.")] = Decoder.greedy,
    beam_width: Annotated[int, typer.Option(min=1, help="Beams kept by --decoder beam.")] = 10,
    lexicon: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Word list; decoded words snap to it."),
    ] = None,
    lm: Annotated[
        str | None,
        typer.Option(
            "--lm", help="Word language model: 'en' (bundled) or an ARPA / KenLM binary file."
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Export cache (default ~/.cache/hwr/exports).")
    ] = None,
) -> None:
    from hwr_export.cli.lm import open_lm
    from runtimes.serve import require_serve_extra

    require_serve_extra()
    from runtimes.recognizer import Recognizer, runtime_for
    from runtimes.serve.config import ServeConfig, ServedModel
    from runtimes.serve.server import run_server

    chosen = runtime.value if runtime else None
    path, source = served_model_path(model, chosen, cache_dir)
    resolved_runtime = runtime_for(path, chosen)  # a mismatch fails here, before binding
    words = read_lexicon(lexicon) if lexicon else None
    language_model = open_lm(lm, None, None, None)  # a bad file fails here, before binding
    config = ServeConfig(
        host=host,
        port=port,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_upload_bytes=int(max_upload_mb * MIB),
        max_image_pixels=max_pixels,
        max_images=max_images,
        request_timeout_s=timeout,
        api_key=api_key or None,
        cors_origins=tuple(cors_origin or ()),
    )
    decoding = f"lm:{lm}" if lm else decoder.value
    served = ServedModel.describe(path, resolved_runtime, device.value, decoding, source=source)

    def load() -> Recognizer:
        return Recognizer.load(
            path,
            runtime=resolved_runtime,
            device=device.value,
            threads=threads,
            decoder=decoder.value,
            beam_width=beam_width,
            lexicon=words,
            lm=language_model,
        )

    if run_server(config, served, load) != 0:
        raise fail(f"{path.name} could not be loaded; the server stopped")
