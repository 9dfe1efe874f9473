"""Atomic file writes: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtimes.errors import HwrError


@contextmanager
def atomic_path(target: Path, force: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``target``.

    With ``force=False`` an existing target is an error, so no finished work is overwritten.
    """
    target = Path(target)
    if target.exists() and not force:
        raise HwrError(f"{target}: already exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(target: Path, text: str, force: bool = True) -> None:
    with atomic_path(target, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
