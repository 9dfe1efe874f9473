"""`hwr lm build TEXT... --out model.arpa`: a word language model from a user's own text, for
`hwr transcribe --lm model.arpa` (archives have their own names and spellings)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hwr_export.cli.common import user_errors

if TYPE_CHECKING:
    from runtimes.lm import LanguageModel

lm_app = typer.Typer(
    help="Word n-gram language models for decoding (--lm).",
    no_args_is_help=True,
)


@lm_app.command("build")
@user_errors
def build_command(
    texts: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, help="UTF-8 text files, a sentence per line."),
    ],
    out: Annotated[Path, typer.Option(dir_okay=False, help="The ARPA file to write.")],
    order: Annotated[int, typer.Option(min=1, max=6, help="n of the word n-grams.")] = 3,
    min_count: Annotated[
        int, typer.Option(min=1, help="Drop n-grams (n >= 2) seen fewer times (smaller model).")
    ] = 1,
) -> None:
    """Interpolated Kneser-Ney word n-grams, written as ARPA (KenLM reads it)."""
    from hwr_export.lm.build import build_lm

    sentences, sizes = build_lm(texts, out, order=order, min_count=min_count)
    grams = ", ".join(f"{n} {i}-grams" for i, n in enumerate(sizes, 1))
    typer.echo(f"{out}: {sentences} lines of text, {grams}")


def open_lm(
    spec: str | None, beam_width: int | None, alpha: float | None, beta: float | None
) -> LanguageModel | None:
    """The language model named by --lm ("en" or a file), with any weights the user set."""
    if spec is None:
        if alpha is not None or beta is not None:
            from runtimes.errors import HwrError

            raise HwrError("--lm-alpha and --lm-beta weigh a language model: add --lm")
        return None
    from dataclasses import replace

    from runtimes.lm import LanguageModel, LmWeights

    default = LmWeights()
    weights = replace(
        default,
        beam_width=default.beam_width if beam_width is None else beam_width,
        alpha=default.alpha if alpha is None else alpha,
        beta=default.beta if beta is None else beta,
    )
    return LanguageModel.load(spec, weights)
