"""`hwr push`: publish a model to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors


@user_errors
def push_command(
    model: Annotated[Path, typer.Argument(help="Model file (.safetensors, .onnx, ...).")],
    repo_id: Annotated[str, typer.Argument(help="OWNER/REPO on the Hub.")],
    card: Annotated[Path | None, typer.Option(help="Model card to upload as README.md.")] = None,
    private: Annotated[bool, typer.Option(help="Create the repository as private.")] = False,
) -> None:
    from hwr_export.hub import push_model

    typer.echo(push_model(model, repo_id, card, private))
