"""`hwr export --format web`: a static folder that runs the recognizer in the browser.

The folder holds ``index.html`` (the page), ``hwr.js`` (runtimes/web/hwr.js, the JavaScript twin of
runtimes/), ONNX Runtime Web's WASM build (``ort.wasm.min.mjs``, ``ort-wasm-simd-threaded.mjs``,
``ort-wasm-simd-threaded.wasm``), the model(s) and ``manifest.json`` (which model the page loads).
Any static file server can host it; nothing is fetched from elsewhere at run time.

ONNX Runtime Web comes from npm, at the version pinned in runtimes/web/package-lock.json: taken
from runtimes/web/node_modules when a checkout has it (``npm ci`` there, as ``make test-web`` does),
else installed once with ``npm ci`` from the lockfile into ``$XDG_CACHE_HOME/hwr`` (~/.cache/hwr).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import runtimes
from hwr_export.atomic import Outputs
from runtimes.errors import HwrError

WEB_SOURCE = Path(runtimes.__file__).resolve().parent / "web"
PAGE_FILES = ("index.html", "hwr.js")
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_PACKAGE = "onnxruntime-web"
MODELS = {"int8": ".int8.onnx", "fp32": ".onnx"}  # web model name -> export suffix


def pinned_version(source: Path = WEB_SOURCE) -> str:
    """The onnxruntime-web version of the lockfile."""
    lock = json.loads((source / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"][f"node_modules/{ORT_PACKAGE}"]["version"])


def cache_dir(version: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hwr" / f"{ORT_PACKAGE}-{version}"


def _dist_if_complete(node_modules: Path, version: str) -> Path | None:
    package = node_modules / ORT_PACKAGE
    try:
        found = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    dist = package / "dist"
    if found != version or not all((dist / name).is_file() for name in ORT_FILES):
        return None
    return dist


def npm_ci(folder: Path) -> None:
    """``npm ci`` from the lockfile in ``folder`` (no install scripts: nothing here needs them)."""
    npm = shutil.which("npm")
    if npm is None:
        raise HwrError(
            f"the web export needs {ORT_PACKAGE} from npm and npm is not installed: install "
            "Node.js and npm (e.g. `apt-get install npm`), then run the export again"
        )
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise HwrError(f"`npm ci` in {folder} failed: {reason}")


def ort_dist(log: Callable[[str], None] = lambda line: None) -> Path:
    """The folder of ONNX Runtime Web's files at the pinned version, installed if need be."""
    version = pinned_version()
    for node_modules in (WEB_SOURCE / "node_modules", cache_dir(version) / "node_modules"):
        dist = _dist_if_complete(node_modules, version)
        if dist is not None:
            return dist
    cache = cache_dir(version)
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(WEB_SOURCE / name, cache / name)
    log(f"web: installing {ORT_PACKAGE} {version} from the lockfile into {cache} (once)")
    npm_ci(cache)
    dist = _dist_if_complete(cache / "node_modules", version)
    if dist is None:
        raise HwrError(f"{cache}: `npm ci` did not install {ORT_PACKAGE} {version}'s WASM files")
    return dist


def write_web(
    checkpoint: Path,
    out_dir: Path,
    models: Sequence[str],
    calibration: str | None,
    verify: str | None,
    force: bool,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Path]:
    """Write the web folder for ``checkpoint`` with ``models`` (``int8`` and/or ``fp32``); the
    first is the page's default. Returns {file name: path}. All files are renamed into place
    together once every one is written (an existing file is kept unless ``force``)."""
    from hwr_export.export.pipeline import ExportRequest, export_all

    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise HwrError(f"unknown web model {unknown[0] if unknown else ''!r}; choose int8 or fp32")
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    dist = ort_dist(log)  # before minutes of export: a missing npm is said at once
    names = {m: f"{checkpoint.stem}{MODELS[m]}" for m in models}
    manifest = {
        "default": names[models[0]],
        "models": list(names.values()),
        ORT_PACKAGE: pinned_version(),
    }
    files = {name: WEB_SOURCE / name for name in PAGE_FILES}
    files |= {name: dist / name for name in ORT_FILES}
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hwr-web-") as scratch, Outputs(force) as outputs:
        targets = [out_dir / name for name in [*files, *names.values(), "manifest.json"]]
        for target in targets:  # refuse before any work
            outputs.stage(target)
        wanted = frozenset({"onnx"} | ({"onnx-int8"} if "int8" in models else set()))
        request = ExportRequest(checkpoint, Path(scratch), wanted, calibration, verify, force=True)
        exported = export_all(request, log=log)
        files |= {names[m]: exported["onnx" if m == "fp32" else "onnx-int8"] for m in models}
        for name, source in files.items():
            outputs.write_verified(out_dir / name, partial(shutil.copyfile, source))
        outputs.write_verified(
            out_dir / "manifest.json",
            lambda tmp: tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8"),
        )
    for target in targets:
        log(f"web: {target} ({target.stat().st_size / 1e6:.2f} MB)")
    log(f"web: serve it with `hwr web {out_dir}` (or any static file server)")
    return {target.name: target for target in targets}
