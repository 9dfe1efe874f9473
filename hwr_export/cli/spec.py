"""Re-run a recorded benchmark spec (benchmarks/specs/*.json) exactly as it was specified.

    python -m hwr_export.cli.spec benchmarks/specs/cpu-iam-validation.json [MORE ARGS]

A spec is a JSON object whose ``argv`` holds the `hwr` arguments; anything after the spec file
is appended (a checkpoint path, ``--limit 20``, ``--threads 2`` ...). Run it from the repository
root: the data and result paths in the specs are relative to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hwr_export.bench.spec import spec_argv
from runtimes.errors import HwrError


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    if not args:
        sys.exit("usage: python -m hwr_export.cli.spec SPEC.json [more hwr arguments]")
    try:
        argv = spec_argv(Path(args[0])) + args[1:]
    except HwrError as exc:
        sys.exit(f"hwr: error: {exc}")
    from hwr_export.cli import app

    print("hwr " + " ".join(argv), file=sys.stderr)
    app(argv)


if __name__ == "__main__":
    main()
