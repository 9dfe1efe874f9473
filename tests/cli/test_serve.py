"""`hwr serve` end to end: the real command in its own process on a free loopback port, the
bundled model (exported to fp32 ONNX on the fly), a real HTTP client, synthetic lines."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hwr_export.cli import app  # noqa: E402
from hwr_export.data.synthetic import SyntheticLines  # noqa: E402
from hwr_export.model.source import DEFAULT_MODEL_NAME  # noqa: E402

HOST = "127.0.0.1"
KEY = "test-key-4f2a"
AUTH = {"Authorization": f"Bearer {KEY}"}
MAX_UPLOAD = 1 << 20
# uvicorn shuts down gracefully, then re-raises the signal it caught: the exit is the SIGTERM's.
STOPPED_BY_SIGTERM = (0, -signal.SIGTERM)
SERVER_ARGS = [
    "--threads", "1", "--max-upload-mb", "1", "--max-pixels", "400000", "--max-images", "8",
    "--max-wait-ms", "10",
]  # fmt: skip


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_cli_server(
    args: list[str], log: Path, env: dict[str, str], port: int
) -> tuple[subprocess.Popen, str]:
    """`hwr serve ARGS --port PORT` as a process, output in ``log``; returns once /health is 200."""
    command = [sys.executable, "-m", "hwr_export.cli", "serve", *args, "--port", str(port)]
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"hwr serve did not become healthy:\n{log.read_text()}")


def write_lines(folder: Path, count: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i, (image, _text) in enumerate(SyntheticLines(count, seed=seed)):
        path = folder / f"line-{i:02d}.png"
        image.save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HWR_API_KEY"}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, cache: Path, env: dict[str, str], loopback: Any
) -> Iterator[Server]:
    """The bundled model, the key from HWR_API_KEY, small limits; must stop cleanly on SIGTERM."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    args = ["--cache-dir", str(cache), *SERVER_ARGS]
    process, url = start_cli_server(args, log, {**env, "HWR_API_KEY": KEY}, loopback.free_port())
    yield Server(process, url, log)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) in STOPPED_BY_SIGTERM, log.read_text()


@pytest.fixture(scope="module")
def onnx_file(server: Server, cache: Path) -> Path:
    stem = Path(DEFAULT_MODEL_NAME).stem
    [path] = cache.glob(f"*/{stem}.onnx")  # the export `hwr serve` made and serves
    return path


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_lines(tmp_path_factory.mktemp("lines") / "a", 6, seed=3)


def cli_transcripts(model: Path, paths: list[Path]) -> dict[str, dict]:
    """`hwr transcribe` on the same files: {file name: record}."""
    result = CliRunner().invoke(app, ["transcribe", str(model), *map(str, paths), "--threads", "1"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return {Path(r["file"]).name: r for r in records}


def same_result(served: dict, expected: dict) -> bool:
    return (
        served["text"] == expected["text"]
        and abs(served["confidence"] - expected["confidence"]) < 1e-3
    )


def post_file(client: httpx.Client, url: str, path: Path) -> dict:
    response = client.post(
        f"{url}/transcribe", files={"file": (path.name, path.read_bytes(), "image/png")}
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    return result


def test_transcripts_equal_hwr_transcribe(
    server: Server, onnx_file: Path, lines: list[Path]
) -> None:
    expected = cli_transcripts(onnx_file, lines)
    assert len({r["text"] for r in expected.values()}) == len(lines)  # lines read differently
    with httpx.Client(headers=AUTH, timeout=60) as client:
        files = [("file", (p.name, p.read_bytes(), "image/png")) for p in lines]
        together = client.post(f"{server.url}/transcribe", files=files)
        assert together.status_code == 200, together.text
        results = together.json()["results"]
        assert [r["file"] for r in results] == [p.name for p in lines]
        for result in results:
            assert same_result(result, expected[result["file"]]), result
        raw = client.post(
            f"{server.url}/transcribe?char_confidences=true",
            content=lines[0].read_bytes(),
            headers={"Content-Type": "image/png"},
        )
    [one] = raw.json()["results"]
    assert one["file"] == "body" and same_result(one, expected[lines[0].name])
    assert len(one["char_confidences"]) == len(one["text"])
    assert abs(sum(one["char_confidences"]) / len(one["text"]) - one["confidence"]) < 1e-3


def test_32_concurrent_requests_equal_sequential_ones(server: Server, tmp_path: Path) -> None:
    paths = write_lines(tmp_path / "many", 32, seed=11)
    with httpx.Client(headers=AUTH, timeout=120) as client:
        before = batch_lines_total(client, server.url)
        sequential = [post_file(client, server.url, p) for p in paths]
        with ThreadPoolExecutor(32) as pool:
            concurrent = list(pool.map(lambda p: post_file(client, server.url, p), paths))
        after = batch_lines_total(client, server.url)
    assert concurrent == sequential
    assert after - before == 64  # every line went through the micro-batcher once


def batch_lines_total(client: httpx.Client, url: str) -> float:
    text = client.get(f"{url}/metrics").text
    [line] = [row for row in text.splitlines() if row.startswith("hwr_batch_lines_sum ")]
    return float(line.split()[1])


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="PNG")
    return buffer.getvalue()


def truncated_png(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


BAD_INPUTS = {
    "text body": (dict(content=b"hello", headers={"Content-Type": "text/plain"}), 415, "unsupported Content-Type 'text/plain'"),
    "no content type": (dict(content=b"hello"), 415, "no Content-Type"),
    "empty image body": (dict(content=b"", headers={"Content-Type": "image/png"}), 400, "empty request body"),
    "not an image": (dict(content=b"GIF? no", headers={"Content-Type": "image/png"}), 422, "body: cannot read image (not a recognised image format)"),
    "form without file": (dict(files={"image": ("a.png", b"x", "image/png")}), 400, "no 'file' field in the form (found: 'image')"),
    "file field as text": (dict(data={"file": "a.png"}, files={"x": ("x.png", b"x")}), 400, "form field 'file' #1 is text, not a file upload"),
    "too many pixels": (dict(files={"file": ("big.png", png((2000, 300)), "image/png")}), 413, "big.png: image of 2000x300 px (600,000 px) is above the 400,000 px limit"),
    "too many images": (dict(files=[("file", (f"{i}.png", png((40, 20)), "image/png")) for i in range(9)]), 413, "Too many files"),
    "bad option": (dict(params={"char_confidences": "perhaps"}, content=png((40, 20)), headers={"Content-Type": "image/png"}), 422, "query.char_confidences"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_each_bad_input_gets_its_status_and_message(server: Server, case: str) -> None:
    request, status, message = BAD_INPUTS[case]
    with httpx.Client(headers=AUTH) as client:
        response = client.post(f"{server.url}/transcribe", **request)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert message in response.json()["error"]
        assert "Traceback" not in response.text
        assert client.get(f"{server.url}/health").status_code == 200  # and it goes on serving


def test_a_corrupt_image_is_named_and_the_others_are_read(
    server: Server, lines: list[Path]
) -> None:
    files = [
        ("file", ("good.png", lines[1].read_bytes(), "image/png")),
        ("file", ("cut.png", truncated_png(lines[2]), "image/png")),
    ]
    with httpx.Client(headers=AUTH) as client:
        mixed = client.post(f"{server.url}/transcribe", files=files)
        alone = client.post(f"{server.url}/transcribe", files=files[1:])
    assert mixed.status_code == 200
    good, cut = mixed.json()["results"]
    assert good["file"] == "good.png" and good["text"]
    assert cut["file"] == "cut.png" and cut["error"].startswith("cut.png: cannot read image (")
    assert alone.status_code == 422 and alone.json()["error"] == cut["error"]


def test_wrong_methods_and_routes_are_json(server: Server) -> None:
    with httpx.Client(headers=AUTH) as client:
        missing = client.get(f"{server.url}/nothing-here")
        wrong = client.get(f"{server.url}/transcribe")
    assert missing.status_code == 404 and missing.json() == {"error": "no route /nothing-here"}
    assert wrong.status_code == 405 and wrong.json() == {
        "error": "GET is not allowed on /transcribe"
    }


@pytest.mark.parametrize("route", ["/transcribe", "/model", "/metrics", "/docs", "/openapi.json"])
def test_a_missing_or_wrong_key_gets_401(server: Server, route: str) -> None:
    method = "POST" if route == "/transcribe" else "GET"
    missing = httpx.request(method, f"{server.url}{route}")
    wrong = httpx.request(method, f"{server.url}{route}", headers={"Authorization": "Bearer nope"})
    basic = httpx.request(method, f"{server.url}{route}", headers={"Authorization": f"Basic {KEY}"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert "missing API key" in missing.json()["error"]
    assert wrong.json() == {"error": "wrong API key"}
    if route != "/transcribe":
        assert httpx.get(f"{server.url}{route}", headers=AUTH).status_code == 200


def test_health_needs_no_key_and_model_tells_the_contract(server: Server, onnx_file: Path) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    info = httpx.get(f"{server.url}/model", headers=AUTH).json()
    import hashlib

    assert info["model"]["sha256"] == hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    assert info["model"]["source"] == DEFAULT_MODEL_NAME
    assert info["contract"]["input_height"] == 64 and info["hwr_version"]
    assert info["limits"]["max_upload_bytes"] == MAX_UPLOAD


def test_an_oversized_upload_is_refused_without_being_read(
    server: Server, lines: list[Path], loopback: Any
) -> None:
    # Declared too large: answered at once, while not one byte of the body was sent.
    head = (
        f"POST /transcribe HTTP/1.1\nHost: {HOST}\nAuthorization: Bearer {KEY}\n"
        f"Content-Type: image/png\nContent-Length: {50 * MAX_UPLOAD}\n"
    )
    with loopback.send(server.port, head) as sock:
        status, body = loopback.response(sock)
    assert status == 413
    assert json.loads(body)["error"].startswith(
        "request body is above the 1,048,576 byte upload limit"
    )
    # No length declared (chunked): refused once past the limit, though the body never ends.
    head = (
        f"POST /transcribe HTTP/1.1\nHost: {HOST}\nAuthorization: Bearer {KEY}\n"
        "Content-Type: image/png\nTransfer-Encoding: chunked\n"
    )
    piece = 64 * 1024
    chunk = b"%x\r\n%s\r\n" % (piece, b"\0" * piece)
    with loopback.send(server.port, head) as sock:
        for _ in range(MAX_UPLOAD // piece + 4):  # a little past the limit, no final chunk
            sock.sendall(chunk)
        status, body = loopback.response(sock)
    assert status == 413
    error = json.loads(body)["error"]
    refused_after = int(error.rsplit("refused after ", 1)[1].split()[0].replace(",", ""))
    assert MAX_UPLOAD < refused_after <= MAX_UPLOAD + 4 * piece
    with httpx.Client(headers=AUTH) as client:  # still serving
        assert post_file(client, server.url, lines[0])["text"]


def test_one_log_line_per_request(server: Server) -> None:
    with httpx.Client(headers=AUTH) as client:
        client.get(f"{server.url}/health?probe=log-test")
        client.post(f"{server.url}/transcribe", content=b"x", headers={"Content-Type": "text/csv"})
    httpx.get(f"{server.url}/model")  # 401
    time.sleep(0.2)
    log = server.log.read_text().splitlines()
    assert any('"POST /transcribe" 415 images=0 ' in line for line in log)
    assert any('"GET /model" 401 images=0 ' in line for line in log)
    requests = [line for line in log if '"POST /transcribe" 200 images=' in line]
    assert requests and all(line.endswith("ms") for line in requests)


def test_sigterm_finishes_the_request_in_flight(
    tmp_path: Path,
    cache: Path,
    env: dict[str, str],
    onnx_file: Path,
    lines: list[Path],
    loopback: Any,
) -> None:
    args = ["--cache-dir", str(cache), "--threads", "1"]
    process, url = start_cli_server(args, tmp_path / "log", env, loopback.free_port())
    port = int(url.rsplit(":", 1)[1])
    data = lines[4].read_bytes()
    head = f"POST /transcribe HTTP/1.1\nHost: {HOST}\nContent-Type: image/png\nContent-Length: {len(data)}\n"
    try:
        with loopback.send(port, head, data[:100]) as sock:  # the upload is under way ...
            while "hwr_requests_in_flight 2.0" not in httpx.get(f"{url}/metrics").text:
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)  # ... when the server is told to stop
            while True:  # it stops accepting connections
                try:
                    socket.create_connection((HOST, port), timeout=5).close()
                    time.sleep(0.05)
                except ConnectionRefusedError:
                    break
            sock.sendall(data[100:])
            status, body = loopback.response(sock)
        assert process.wait(60) in STOPPED_BY_SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
    assert status == 200, body
    expected = cli_transcripts(onnx_file, [lines[4]])[lines[4].name]
    assert same_result(json.loads(body)["results"][0], expected)
    log = (tmp_path / "log").read_text()
    assert '"POST /transcribe" 200 images=1' in log and "Shutting down" in log


def test_an_unusable_model_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not onnx")
    for args, message in [
        ([str(tmp_path / "notes.txt")], "model file not found"),
        ([str(bad), "--runtime", "torch"], "runs with runtime 'onnx', not 'torch'"),
    ]:
        result = CliRunner().invoke(app, ["serve", *args])
        assert result.exit_code == 1 and message in result.output


def test_a_model_that_cannot_load_stops_the_server(
    cache: Path, env: dict[str, str], loopback: Any
) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here: the model would load")
    port = str(loopback.free_port())
    command = [sys.executable, "-m", "hwr_export.cli", "serve", "--cache-dir", str(cache)]
    command += ["--device", "cuda", "--port", port]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "CUDA was requested but the CUDA execution provider is not active" in result.stderr
    assert result.stderr.strip().endswith("could not be loaded; the server stopped")
    assert "Traceback" not in result.stderr
