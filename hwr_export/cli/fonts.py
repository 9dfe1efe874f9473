"""`hwr fonts fetch` and `hwr fonts list`: the handwriting fonts behind synthetic lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors

fonts_app = typer.Typer(
    help="Handwriting fonts for synthetic lines (pinned, verified, installed per user).",
    no_args_is_help=True,
)


@fonts_app.command("fetch")
@user_errors
def fetch_command(
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Install here (default: $HWR_FONTS_DIR or ~/.cache/hwr/fonts)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Download and verify again even if installed.")
    ] = False,
) -> None:
    """Download every font the manifest pins, check its sha256, install it as TrueType."""
    from hwr_export.data.fonts.catalog import font_cache_dir
    from hwr_export.data.fonts.fetch import fetch_fonts

    installed = fetch_fonts(folder, force=force)
    typer.echo(f"{len(installed)} handwriting fonts installed in {folder or font_cache_dir()}")


@fonts_app.command("list")
@user_errors
def list_command() -> None:
    """The pinned fonts, their source and licence, and whether each is installed."""
    from hwr_export.data.fonts.catalog import font_cache_dir, installed_fonts, load_manifest

    have = {p.stem for p in installed_fonts()}
    for entry in load_manifest():
        mark = "installed" if entry.name in have else "-"
        typer.echo(
            f"{entry.name:<28} {entry.package} {entry.version:<20} {entry.licence:<28} {mark}"
        )
    typer.echo(f"cache: {font_cache_dir()}")
