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
    export_format: str | None  # the export_all format that writes it
    precision: str  # fp32, int8, fp16


FORMATS: dict[str, FormatSpec] = {
    f.name: f
    for f in (
        FormatSpec("torch", "torch", None, None, "fp32"),
        FormatSpec("torchscript", "torchscript", ".ts", "torchscript", "fp32"),
        FormatSpec("onnx", "onnx", ".onnx", "onnx", "fp32"),
        FormatSpec("onnx-int8", "onnx", ".int8.onnx", "onnx", "int8"),
        FormatSpec("onnx-fp16", "onnx", ".fp16.onnx", "onnx", "fp16"),
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


def export_folder(checkpoint: Path, cache_root: Path | None, digest: str | None = None) -> Path:
    digest = digest or file_digest(checkpoint)
    return (cache_root or default_cache_root()) / digest[:16]


def format_path(checkpoint: Path, folder: Path, name: str) -> Path:
    spec = FORMATS[name]
    if spec.suffix is None:
        return checkpoint
    return folder / f"{checkpoint.stem}{spec.suffix}"


def _export_all():  # noqa: ANN202 - the exporter's own signature is the contract
    try:
        from hwr_export.cli_export import export_all
    except ImportError:
        from hwr_export.export_onnx import export_all
    return export_all


def ensure_exports(checkpoint: Path, folder: Path, names: list[str]) -> dict[str, Path]:
    """Paths of every requested format, exporting only those not already in the cache."""
    paths = {name: format_path(checkpoint, folder, name) for name in names}
    missing = [n for n in names if not paths[n].is_file()]
    if missing:
        export_formats = {FORMATS[n].export_format for n in missing} - {None}
        if not export_formats:  # only the original was missing: nothing to export
            raise HwrError(f"{checkpoint}: checkpoint not found")
        folder.mkdir(parents=True, exist_ok=True)
        _export_all()(
            checkpoint=checkpoint,
            out_dir=folder,
            formats=export_formats,
            int8="onnx-int8" in missing,
            fp16="onnx-fp16" in missing,
            calibration=None,
            verify=None,
            force=True,
        )
        still_missing = [n for n in missing if not paths[n].is_file()]
        if still_missing:
            raise HwrError(
                f"{folder}: export did not write {', '.join(str(paths[n].name) for n in still_missing)}"
            )
    return paths
