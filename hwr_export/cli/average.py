"""`hwr average`: one checkpoint from the mean of several (a model soup)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors

CheckpointArg = Annotated[
    list[Path],
    typer.Argument(
        exists=True,
        dir_okay=False,
        help="Checkpoints of one preset (e.g. runs/*/best.safetensors).",
    ),
]


@user_errors
def average_command(
    checkpoints: CheckpointArg,
    out: Annotated[Path, typer.Option(dir_okay=False, help="Where to write the average.")],
) -> None:
    from hwr_export.model.average import average_checkpoints
    from hwr_export.model.checkpoint import save_checkpoint

    model = average_checkpoints(checkpoints)
    save_checkpoint(model, out, metrics={"averaged_from": [str(p) for p in checkpoints]})
    typer.echo(f"hwr: averaged {len(checkpoints)} {model.config.name!r} checkpoints into {out}")
