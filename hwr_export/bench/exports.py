"""Which formats a benchmark compares, and where their files come from.

The PyTorch checkpoint is the original; every other format is exported from it once, into a
cache folder named by the checkpoint's content hash, so re-runs reuse the files and a changed
checkpoint never meets stale exports.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from runtimes.errors import HwrError
from runtimes.formats import FORMATS, TORCH

ORIGINAL = TORCH.name
DEFAULT_FORMATS = {
    # int8 kernels are a CPU feature of ONNX Runtime; fp16 pays off on GPUs.
    "cpu": ("torch", "torchscript", "onnx", "onnx-int8"),
    "cuda": ("torch", "onnx", "onnx-fp16"),
}


def parse_formats(text: str | None, device: str) -> list[str]:
    """The comma list from ``--formats`` (default per device); the original always comes first,
    because every delta and agreement is measured against it."""
    if not text:
        names = list(DEFAULT_FORMATS[device])
    else:
        names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise HwrError(
            f"--formats: unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}"
        )
    ordered = [ORIGINAL] + [n for n in dict.fromkeys(names) if n != ORIGINAL]
    return ordered


def parse_batch_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise HwrError(f"--batch-sizes: expected numbers like 1,16, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise HwrError(f"--batch-sizes: expected positive numbers like 1,16, got {text!r}")
    return sorted(set(sizes))


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_cache_root() -> Path:
    """~/.cache/hwr/exports (XDG_CACHE_HOME respected), or a temp folder if that is read-only."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = base / "hwr" / "exports"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="hwr-exports-"))


def export_folder(
    checkpoint: Path,
    cache_root: Path | None,
    digest: str | None = None,
    calibration: str | None = None,
) -> Path:
    """<cache>/<checkpoint sha256[:16]>, plus the calibration set's hash when one is given,
    because the int8 file depends on the lines it was calibrated on."""
    name = (digest or file_digest(checkpoint))[:16]
    if calibration:
        name += "-cal-" + hashlib.sha256(calibration.encode()).hexdigest()[:8]
    return (cache_root or default_cache_root()) / name


def format_path(checkpoint: Path, folder: Path, name: str) -> Path:
    spec = FORMATS[name]
    if not spec.exported:
        return checkpoint
    return folder / f"{checkpoint.stem}{spec.suffix}"


def _export_one(checkpoint: Path, folder: Path, name: str, calibration: str | None) -> None:
    from hwr_export.export.pipeline import ExportRequest, export_all

    export_all(ExportRequest(checkpoint, folder, frozenset({name}), calibration, force=True))


def ensure_exports(
    checkpoint: Path, folder: Path, names: list[str], calibration: str | None = None
) -> tuple[dict[str, Path], dict[str, str]]:
    """Paths of every requested format, exporting only those not already in the cache.

    A format whose export fails (e.g. int8 failing the exporter's own accuracy check) is
    returned in the second dict with its one-line error: it becomes a failed row of the
    benchmark, not the end of it.
    """
    paths = {name: format_path(checkpoint, folder, name) for name in names}
    errors: dict[str, str] = {}
    for name in names:
        if paths[name].is_file():
            continue
        if not FORMATS[name].exported:
            raise HwrError(f"{paths[name]}: checkpoint not found")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _export_one(checkpoint, folder, name, calibration)
        except HwrError as exc:
            errors[name] = f"export failed: {exc}"
            continue
        if not paths[name].is_file():
            errors[name] = f"export did not write {paths[name].name}"
    return paths, errors
