"""Re-run a recorded benchmark spec (benchmarks/specs/*.json) exactly as it was specified.

    python -m hwr_export.bench.spec benchmarks/specs/cpu-iam-validation.json [MORE ARGS]

A spec is a JSON object whose ``argv`` holds the `hwr` arguments; anything after the spec file
is appended (a checkpoint path, ``--limit 20``, ``--threads 2`` ...). Run it from the repository
root: the data and result paths in the specs are relative to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runtimes.errors import HwrError


def spec_argv(path: Path) -> list[str]:
    """The `hwr` arguments stored in a spec file; a malformed spec is a one-line HwrError."""
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HwrError(f"{path}: spec file not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise HwrError(f"{path}: not a readable JSON spec ({exc})") from None
    argv = spec.get("argv") if isinstance(spec, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise HwrError(f"{path}: spec has no 'argv' list of strings")
    if argv[0] not in ("bench", "parity"):
        raise HwrError(f"{path}: spec runs {argv[0]!r}; only bench and parity specs are allowed")
    return argv


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    if not args:
        sys.exit("usage: python -m hwr_export.bench.spec SPEC.json [more hwr arguments]")
    try:
        argv = spec_argv(Path(args[0])) + args[1:]
    except HwrError as exc:
        sys.exit(f"hwr: error: {exc}")
    from hwr_export.cli import app

    print("hwr " + " ".join(argv), file=sys.stderr)
    app(argv)


if __name__ == "__main__":
    main()
