"""Recorded benchmark specs (benchmarks/specs/*.json): a JSON object whose ``argv`` holds the
`hwr` arguments. ``hwr_export.cli.spec`` runs one through the command line."""

from __future__ import annotations

import json
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
