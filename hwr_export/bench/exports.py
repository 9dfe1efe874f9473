"""Which formats a benchmark compares, and where their files come from.

The PyTorch checkpoint is the original; every other format is exported from it once, into a
cache folder named by the checkpoint's content hash, so re-runs reuse the files and a changed
checkpoint never meets stale exports.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runtimes.errors import HwrError

ORIGINAL = "torch"


@dataclass(frozen=True)
class FormatSpec:
    name: str  # the name on the command line and in reports
    runtime: str  # the Recognizer runtime that loads it
    suffix: str | None  # file name after the checkpoint stem; None: the checkpoint itself
    export_option: str | None  # what export_all is asked for: a format, or the int8/fp16 flag
    precision: str  # fp32, int8, fp16


FORMATS: dict[str, FormatSpec] = {
    f.name: f
    for f in (
        FormatSpec("torch", "torch", None, None, "fp32"),
        FormatSpec("torchscript", "torchscript", ".ts", "torchscript", "fp32"),
        FormatSpec("onnx", "onnx", ".onnx", "onnx", "fp32"),
        FormatSpec("onnx-int8", "onnx", ".int8.onnx", "int8", "int8"),
        FormatSpec("onnx-fp16", "onnx", ".fp16.onnx", "fp16", "fp16"),
    )
}
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
    if spec.suffix is None:
        return checkpoint
    return folder / f"{checkpoint.stem}{spec.suffix}"


def _export_one(checkpoint: Path, folder: Path, name: str, calibration: str | None) -> None:
    from hwr_export.export.pipeline import export_all

    option = FORMATS[name].export_option
    export_all(
        checkpoint=checkpoint,
        out_dir=folder,
        formats={option} if option in ("torchscript", "onnx") else set(),
        int8=option == "int8",
        fp16=option == "fp16",
        calibration=calibration,
        verify=None,
        force=True,
    )


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
        if FORMATS[name].export_option is None:
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
