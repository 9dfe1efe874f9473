"""Shared CLI plumbing: user errors become one line on stderr and exit status 1."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from runtimes.errors import HwrError, printable

F = TypeVar("F", bound=Callable[..., Any])

InferenceThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Intra-op threads, one batch at a time (default: ONNX on the CPU runs one "
        "thread a batch and as many batches at once as there are usable cores).",
    ),
]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as a one-line error and return the Exit to raise."""
    typer.echo(f"hwr: error: {printable(message)}", err=True)
    return typer.Exit(1)


def user_errors(fn: F) -> F:
    """Turn HwrError (bad input, missing file, unusable model) and OSError on a named path
    (unwritable folder, missing file) into a one-line error, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HwrError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:  # a path the user named that cannot be read or written
            if exc.filename is None:
                raise
            raise fail(f"{exc.filename}: {exc.strerror or exc}") from None
        except KeyboardInterrupt:
            raise fail("interrupted") from None

    return wrapper  # type: ignore[return-value]
