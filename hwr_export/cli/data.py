"""`hwr synth`: write synthetic handwriting-like lines as NAME.png + NAME.txt pairs, or with
``--pages N`` whole pages composed from lines, with their ground truth.

The folder it writes is itself a valid ``--data`` source and a set of sample images to transcribe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors


@user_errors
def synth_command(
    out: Annotated[Path, typer.Option(help="Folder for NAME.png + NAME.txt pairs.")],
    count: Annotated[int, typer.Option(min=1, help="Number of lines.")] = 8,
    seed: Annotated[int, typer.Option(help="Same seed, same lines.")] = 0,
    height: Annotated[int, typer.Option(min=16, help="Line height in pixels.")] = 64,
    sheet: Annotated[
        Path | None, typer.Option(help="Also write all lines stacked in one PNG, to look at.")
    ] = None,
    pages: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Write N pages composed from lines instead (PNG + ground truth JSON and PAGE-XML).",
        ),
    ] = None,
    data: Annotated[
        str,
        typer.Option(help="With --pages: the lines (any --data source; IAM lines group by form)."),
    ] = "synthetic",
    split: Annotated[str, typer.Option(help="With --pages: the split of --data.")] = "validation",
) -> None:
    from hwr_export.atomic import atomic_path, atomic_write_text
    from hwr_export.data.synthetic import SyntheticLines

    if pages is not None:
        from hwr_export.data.pages import write_pages

        written = write_pages(data, split, pages, seed, out)
        typer.echo(f"wrote {written} pages to {out}")
        return
    out.mkdir(parents=True, exist_ok=True)
    lines = SyntheticLines(count, seed=seed, height=height)
    images = []
    for i in range(count):
        image, text = lines[i]
        images.append(image)
        stem = out / f"line-{seed}-{i:04d}"
        with atomic_path(stem.with_suffix(".png")) as tmp:
            image.save(tmp, format="PNG")
        atomic_write_text(stem.with_suffix(".txt"), text + "\n")
    if sheet is not None:
        with atomic_path(sheet) as tmp:
            contact_sheet(images).save(tmp, format="PNG")
    typer.echo(f"wrote {count} lines to {out}" + (f" and {sheet}" if sheet else ""))


def contact_sheet(images: list, gap: int = 6):
    """Lines stacked top to bottom on a grey background."""
    from PIL import Image

    width = max(im.width for im in images)
    canvas = Image.new("L", (width, sum(im.height + gap for im in images) - gap), 160)
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height + gap
    return canvas
