"""`hwr export --format web` and `hwr web`: the folder, its files, its server, bad input."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.cli.web_server import start_server
from hwr_export.export import web
from hwr_export.model.checkpoint import save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny-model.safetensors"
    save_checkpoint(CRNN(get_preset("tiny")).eval(), path, {})
    return path


@pytest.fixture()
def fake_ort(tmp_path, monkeypatch) -> Path:
    """A stand-in for the npm package at the pinned version (no npm needed by this test)."""
    dist = tmp_path / "cache" / "node_modules" / "onnxruntime-web" / "dist"
    dist.mkdir(parents=True)
    (dist.parent / "package.json").write_text(json.dumps({"version": web.pinned_version()}))
    for name in web.ORT_FILES:
        (dist / name).write_bytes(b"\0asm" if name.endswith(".wasm") else b"export {};")
    monkeypatch.setattr(web, "WEB_SOURCE", _source_without_node_modules(tmp_path))
    monkeypatch.setattr(web, "cache_dir", lambda version: tmp_path / "cache")
    return dist


def _source_without_node_modules(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("index.html", "hwr.js", "package.json", "package-lock.json"):
        (source / name).write_bytes((web.WEB_SOURCE / name).read_bytes())
    return source


def test_the_web_folder_holds_page_runtime_models_and_manifest(checkpoint, tmp_path, fake_ort):
    out = tmp_path / "site"
    result = CliRunner().invoke(
        app,
        [
            "export",
            str(checkpoint),
            "--format",
            "web",
            "--web-model",
            "both",
            "--calibration",
            "synthetic:8",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        *web.PAGE_FILES,
        *web.ORT_FILES,
        "tiny-model.int8.onnx",
        "tiny-model.onnx",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["default"] == "tiny-model.int8.onnx"
    assert "tiny-model.onnx (" in result.output and "MB)" in result.output  # sizes are logged
    again = CliRunner().invoke(
        app, ["export", str(checkpoint), "--format", "web", "--out", str(out)]
    )
    assert again.exit_code == 1 and "already exists (use --force" in again.output


def test_without_npm_the_export_says_so_in_one_line(checkpoint, tmp_path, fake_ort, monkeypatch):
    monkeypatch.setattr(web, "cache_dir", lambda version: tmp_path / "empty-cache")
    monkeypatch.setattr(web.shutil, "which", lambda name: None)
    with pytest.raises(HwrError, match="npm is not installed"):
        web.write_web(checkpoint, tmp_path / "site", ["int8"], None, None, False)
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())


def test_int8_flags_are_refused_for_the_web_format(tmp_path):
    result = CliRunner().invoke(
        app, ["export", "--format", "web", "--int8", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "use --web-model" in result.output


def test_the_server_sends_wasm_mime_type_and_isolation_headers(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "hwr.js").write_text("export {};")
    (tmp_path / "x.wasm").write_bytes(b"\0asm")
    server = start_server(tmp_path)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.wasm"
        with urllib.request.urlopen(url) as response:
            assert response.headers["Content-Type"] == "application/wasm"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.read() == b"\0asm"
    finally:
        server.shutdown()


def test_hwr_web_refuses_a_folder_that_is_not_a_web_export(tmp_path):
    result = CliRunner().invoke(app, ["web", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a web export (no index.html)" in result.output
