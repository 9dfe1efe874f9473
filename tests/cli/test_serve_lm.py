"""`hwr serve --lm`: the real command in its own process on a loopback port, decoding with the
bundled language model exactly as `hwr transcribe --lm en` does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("kenlm", reason="the lm extra (make setup installs it)")

from typer.testing import CliRunner  # noqa: E402

from hwr_export.cli import app  # noqa: E402
from hwr_export.data.synthetic import SyntheticLines  # noqa: E402

HOST = "127.0.0.1"


def test_served_lm_transcripts_equal_transcribe_lm(
    onnx_model: Path, tmp_path: Path, loopback: Any
) -> None:
    lines = []
    for i, (image, _) in enumerate(SyntheticLines(3, seed=5)):
        lines.append(tmp_path / f"line-{i}.png")
        image.save(lines[-1])
    cli = CliRunner().invoke(app, ["transcribe", str(onnx_model), *map(str, lines), "--lm", "en"])
    assert cli.exit_code == 0, cli.output
    expected = {Path(r["file"]).name: r["text"] for r in map(json.loads, cli.stdout.splitlines())}

    port = loopback.free_port()
    env = {k: v for k, v in os.environ.items() if k != "HWR_API_KEY"}
    command = [sys.executable, "-m", "hwr_export.cli", "serve", str(onnx_model), "--lm", "en"]
    command += ["--threads", "1", "--port", str(port)]
    log = tmp_path / "server.log"
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"hwr serve --lm did not become healthy:\n{log.read_text()}")
        with httpx.Client(timeout=60) as client:
            assert client.get(f"{url}/model").json()["model"]["decoder"] == "lm:en"
            files = [("file", (p.name, p.read_bytes(), "image/png")) for p in lines]
            response = client.post(f"{url}/transcribe", files=files)
        assert response.status_code == 200, response.text
        served = {r["file"]: r["text"] for r in response.json()["results"]}
        assert served == expected
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def test_serve_with_a_bad_lm_fails_before_binding(onnx_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.arpa"
    bad.write_bytes(b"\x00garbage")
    result = CliRunner().invoke(app, ["serve", str(onnx_model), "--lm", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == f"hwr: error: {bad}: not an ARPA or KenLM binary language model"
