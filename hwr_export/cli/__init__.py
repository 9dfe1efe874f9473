"""The `hwr` command line. Each command lives in its own module; heavy imports stay inside them.

``hwr`` and ``python -m hwr_export.cli`` both run ``main``.
"""

from __future__ import annotations

import typer

from hwr_export.cli.average import average_command
from hwr_export.cli.bench import bench_command, parity_command
from hwr_export.cli.data import synth_command
from hwr_export.cli.export import export_command
from hwr_export.cli.fonts import fonts_app
from hwr_export.cli.hub import push_command
from hwr_export.cli.lm import lm_app
from hwr_export.cli.serve import serve_command
from hwr_export.cli.train import models_command, train_command
from hwr_export.cli.transcribe import transcribe_command
from hwr_export.cli.web import web_command

app = typer.Typer(
    name="hwr",
    help="Handwritten text line recognition: train, export, transcribe, benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("models", help="List the model presets.")(models_command)
app.command("train", help="Train a CRNN on a line dataset.")(train_command)
app.command("average", help="Average checkpoints of one preset into one (a model soup).")(
    average_command
)
app.command("export", help="Export a checkpoint to TorchScript / ONNX (fp32, int8, fp16).")(
    export_command
)
app.command("transcribe", help="Transcribe line images with any runtime.")(transcribe_command)
app.command("bench", help="Accuracy parity and speed of every format, side by side.")(bench_command)
app.command("parity", help="The parity gate alone: `hwr bench --check` with defaults.")(
    parity_command
)
app.command("serve", help="HTTP recognition service (needs the serve extra).")(serve_command)
app.command("web", help="Serve a web export (`hwr export --format web`) locally.")(web_command)
app.command("synth", help="Write synthetic handwriting-like sample lines.")(synth_command)
app.command("push", help="Upload a model to the Hugging Face Hub.")(push_command)
app.add_typer(fonts_app, name="fonts")
app.add_typer(lm_app, name="lm")


def main() -> None:
    app()
