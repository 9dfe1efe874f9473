"""`hwr synth`: write synthetic handwriting-like lines as NAME.png + NAME.txt pairs.

The folder it writes is itself a valid ``--data`` source and a set of sample images to transcribe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli_common import user_errors


@user_errors
def synth_command(
    out: Annotated[Path, typer.Option(help="Folder for NAME.png + NAME.txt pairs.")],
    count: Annotated[int, typer.Option(min=1, help="Number of lines.")] = 8,
    seed: Annotated[int, typer.Option(help="Same seed, same lines.")] = 0,
    height: Annotated[int, typer.Option(min=16, help="Line height in pixels.")] = 64,
) -> None:
    from hwr_export.atomic import atomic_path, atomic_write_text
    from hwr_export.synthetic import SyntheticLines

    out.mkdir(parents=True, exist_ok=True)
    lines = SyntheticLines(count, seed=seed, height=height)
    for i in range(count):
        image, text = lines[i]
        stem = out / f"line-{seed}-{i:04d}"
        with atomic_path(stem.with_suffix(".png")) as tmp:
            image.save(tmp, format="PNG")
        atomic_write_text(stem.with_suffix(".txt"), text + "\n")
    typer.echo(f"wrote {count} lines to {out}")
