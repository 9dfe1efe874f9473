"""Atomic file writes: write to a temporary sibling, check it, then rename over the target.

``write_verified`` is the one way an export reaches its final name; ``Outputs`` stages several
files and renames them together, so an export that fails half-way leaves nothing behind. The
rename refuses to replace a file it did not expect: one that appeared (without ``force``) or
changed (with ``force``) since the work began, e.g. by a second export into the same folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runtimes.errors import HwrError

Signature = tuple[int, int, int] | None  # (inode, size, mtime_ns) of a target, None if absent


@contextmanager
def atomic_path(target: Path, force: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``target``.

    With ``force=False`` an existing target is an error, so no finished work is overwritten.
    """
    with Outputs(force) as outputs:
        yield outputs.stage(Path(target))


def write_verified(
    path: Path,
    write: Callable[[Path], object],
    check: Callable[[Path], object] | None = None,
    force: bool = True,
) -> Path:
    """``write(tmp)``, then ``check(tmp)`` (raise to reject), then rename to ``path``."""
    with Outputs(force) as outputs:
        outputs.write_verified(path, write, check)
    return Path(path)


@dataclass
class _Staged:
    target: Path
    temporary: Path
    expected: Signature  # what the target was when the work began


class Outputs:
    """Files written to temporaries and renamed together on success: all or nothing."""

    def __init__(self, force: bool) -> None:
        self.force = force
        self._staged: list[_Staged] = []

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                self.commit()
        finally:
            self.discard()

    def stage(self, target: Path) -> Path:
        """A temporary file next to ``target`` (the same one if staged already), renamed to it
        by ``commit``; what the target is now is what the rename expects to replace."""
        target = Path(target)
        for item in self._staged:
            if item.target == target:
                return item.temporary
        expected = _signature(target)
        if expected is not None and not self.force:
            raise HwrError(f"{target}: already exists (use --force to overwrite)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise HwrError(f"{target}: cannot write here ({exc.strerror or exc})") from None
        os.close(fd)
        self._staged.append(_Staged(target, Path(name), expected))
        return Path(name)

    def write_verified(
        self,
        path: Path,
        write: Callable[[Path], object],
        check: Callable[[Path], object] | None = None,
    ) -> Path:
        """Write and check a staged file; returns the temporary path (the file until commit)."""
        tmp = self.stage(path)
        write(tmp)
        if check is not None:
            check(tmp)
        return tmp

    def commit(self) -> None:
        """Rename every staged file to its target, after checking that no target changed."""
        for item in self._staged:
            if _signature(item.target) != item.expected:
                raise HwrError(
                    f"{item.target}: changed while this run was writing it (another process?); "
                    "nothing was replaced"
                )
        for item in self._staged:
            # mkstemp (and writers that recreate the file, like safetensors) make 0600;
            # outputs get the usual permissions.
            os.chmod(item.temporary, 0o666 & ~_umask())
            if item.expected is None:
                _rename_no_replace(item.temporary, item.target)
            else:
                os.replace(item.temporary, item.target)
        self._staged.clear()

    def discard(self) -> None:
        for item in self._staged:
            item.temporary.unlink(missing_ok=True)
        self._staged.clear()


def _rename_no_replace(source: Path, target: Path) -> None:
    """Rename, failing if ``target`` appeared meanwhile (a hard link is atomic and never replaces)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise HwrError(
            f"{target}: appeared while this run was writing it (another process?); "
            "nothing was replaced"
        ) from None
    except OSError:  # a file system without hard links: the check in commit() must do
        os.replace(source, target)
        return
    source.unlink()


def _signature(path: Path) -> Signature:
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(target: Path, text: str, force: bool = True) -> None:
    with atomic_path(target, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
