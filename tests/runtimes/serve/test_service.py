"""The service in-process with fake runtimes, served by uvicorn on loopback in a thread:
micro-batching, failures, timeouts, loading, CORS, the bind warning, import weight."""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402

import runtimes.serve.app as serve_app  # noqa: E402
from runtimes.contract import ModelContract  # noqa: E402
from runtimes.errors import HwrError  # noqa: E402
from runtimes.preprocess import to_model_input  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402
from runtimes.serve import ServeConfig, ServedModel, create_app  # noqa: E402
from runtimes.serve.auth import bind_warning, is_loopback  # noqa: E402
from runtimes.serve.batcher import MicroBatcher, NotReadyError, ServerBusyError  # noqa: E402

HOST = "127.0.0.1"
FAKE_CHARSET = "abcdefghijklmnopqrstu"
FAKE_CONTRACT = ModelContract(preset="fake", input_height=16, charset=FAKE_CHARSET, min_width=16)


class GrayLevelRuntime:
    """Reads a uniform gray line as one letter: gray 0 is 'a', 255 is 'u' (steps of ~12.75).

    Lines of different gray decode to different letters, so a result that went back to the
    wrong request shows. ``delay`` slows every batch; ``fail`` makes it raise; ``gate`` (an
    Event) holds the first batch until set; ``batches`` records every batch size.
    """

    name = "fake"
    device = "cpu"

    def __init__(
        self, delay: float = 0.0, fail: str | None = None, gate: threading.Event | None = None
    ) -> None:
        self.contract = FAKE_CONTRACT
        self.delay, self.fail, self.gate = delay, fail, gate
        self.batches: list[int] = []
        self.threads: set[str] = set()
        self.finished = 0  # batches that have returned or raised

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(batch.shape[0])
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.fail:
                raise RuntimeError(self.fail)
        finally:
            self.finished += 1
        frames = batch.shape[3] // self.contract.width_stride
        pixels = (
            batch[:, 0, :, :4].mean(axis=(1, 2)) * self.contract.norm_std + self.contract.norm_mean
        )
        classes = 1 + np.clip(np.rint(pixels * 20), 0, 20).astype(int)
        logits = np.full((batch.shape[0], frames, self.contract.num_classes), -10.0, np.float32)
        logits[np.arange(batch.shape[0]), :, classes] = 10.0
        return logits


def gray_png(level: int, width: int = 64, height: int = 16) -> bytes:
    """A uniform gray line; GrayLevelRuntime reads it as letter round(level / 255 * 20)."""
    buffer = io.BytesIO()
    Image.new("L", (width, height), level).save(buffer, format="PNG")
    return buffer.getvalue()


def letter_for(level: int) -> str:
    return FAKE_CHARSET[round(level / 255 * 20)]


def fake_loader(runtime: GrayLevelRuntime) -> Callable[[], Recognizer]:
    return lambda: Recognizer(runtime)  # type: ignore[arg-type]


@contextlib.contextmanager
def app_server(app: object) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port; yields its base URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


MODEL = ServedModel(Path("fake.onnx"), "0" * 64, "fake", "cpu")
PNG = {"Content-Type": "image/png"}


def make_app(
    runtime: GrayLevelRuntime, load: Callable[[], Recognizer] | None = None, **settings: object
) -> object:
    config = ServeConfig(log_requests=False, **settings)  # type: ignore[arg-type]
    return create_app(config, MODEL, load or fake_loader(runtime))


def wait_ready(url: str) -> None:
    for _ in range(500):
        if httpx.get(f"{url}/health").status_code == 200:
            return
        time.sleep(0.01)
    raise AssertionError("never ready")


# --- micro-batching --------------------------------------------------------------------------


def line(level: int) -> np.ndarray:
    return to_model_input(Image.open(io.BytesIO(gray_png(level))), FAKE_CONTRACT)


def started_batcher(runtime: GrayLevelRuntime, **options: object) -> tuple[MicroBatcher, list]:
    seen: list[tuple[int, int]] = []
    batcher = MicroBatcher(
        fake_loader(runtime),
        on_batch=lambda lines, jobs: seen.append((lines, jobs)),
        **options,  # type: ignore[arg-type]
    )
    batcher.start()
    assert batcher.wait_ready(10)
    return batcher, seen


def test_waiting_requests_run_together_and_each_gets_its_own_lines() -> None:
    gate = threading.Event()
    runtime = GrayLevelRuntime(gate=gate)
    batcher, seen = started_batcher(runtime, max_batch_size=16)
    first = batcher.submit([line(0)])
    time.sleep(0.05)  # the worker now holds the first job, blocked in the gate
    levels = [[20, 40], [60], [80, 100, 120], [140], [160, 180]]
    futures = [batcher.submit([line(v) for v in group]) for group in levels]
    gate.set()
    assert first.result(10)[0].text == letter_for(0)
    for group, future in zip(levels, futures, strict=True):
        assert [p.text for p in future.result(10)] == [letter_for(v) for v in group]
    batcher.close(10)
    assert seen == [(1, 1), (9, 5)]  # the five waiting requests shared one micro-batch
    assert runtime.batches == [1, 9]  # lines of one padded width: a single model call
    assert runtime.threads == {"hwr-model"}  # the model is only ever touched by its own thread


def test_batch_size_one_runs_every_line_alone() -> None:
    gate = threading.Event()
    runtime = GrayLevelRuntime(gate=gate)
    batcher, seen = started_batcher(runtime, max_batch_size=1)
    futures = [batcher.submit([line(v)]) for v in (0, 50, 100, 150)]
    gate.set()
    assert [f.result(10)[0].text for f in futures] == [letter_for(v) for v in (0, 50, 100, 150)]
    batcher.close(10)
    assert seen == [(1, 1)] * 4 and runtime.batches == [1] * 4


def test_a_full_queue_refuses_new_lines_and_cancelled_jobs_are_skipped() -> None:
    gate = threading.Event()
    runtime = GrayLevelRuntime(gate=gate)
    batcher, seen = started_batcher(runtime, max_batch_size=1, max_queue_lines=2)
    running = batcher.submit([line(0)])
    time.sleep(0.05)
    waiting = batcher.submit([line(10), line(20)])
    with pytest.raises(ServerBusyError, match="2 lines wait for the model"):
        batcher.submit([line(30)])
    assert waiting.cancel()  # a request that timed out
    gate.set()
    running.result(10)
    batcher.close(10)
    assert seen == [(1, 1)]


def test_closing_runs_what_is_queued_and_refuses_the_rest() -> None:
    gate = threading.Event()
    runtime = GrayLevelRuntime(gate=gate)
    batcher, seen = started_batcher(runtime, max_batch_size=1)
    running = batcher.submit([line(0)])
    time.sleep(0.05)
    queued = batcher.submit([line(100)])
    closing = threading.Thread(target=batcher.close, args=(10,))
    closing.start()
    time.sleep(0.05)
    with pytest.raises(NotReadyError, match="shutting down"):
        batcher.submit([line(200)])
    gate.set()
    closing.join(10)
    assert running.result(0)[0].text == letter_for(0)
    assert queued.result(0)[0].text == letter_for(100)
    assert seen == [(1, 1), (1, 1)] and batcher.state == "stopped"


# --- the app ---------------------------------------------------------------------------------


def test_concurrent_clients_get_their_own_transcripts() -> None:
    runtime = GrayLevelRuntime(delay=0.01)
    with app_server(make_app(runtime, max_wait_ms=20)) as url:
        wait_ready(url)
        levels = [(i * 37) % 256 for i in range(24)]

        def post(level: int) -> str:
            response = httpx.post(f"{url}/transcribe", content=gray_png(level), headers=PNG)
            assert response.status_code == 200, response.text
            return response.json()["results"][0]["text"]

        with ThreadPoolExecutor(24) as pool:
            texts = list(pool.map(post, levels))
        metrics = httpx.get(f"{url}/metrics").text
    assert texts == [letter_for(v) for v in levels]
    assert "hwr_batch_lines_sum 24.0" in metrics
    assert runtime.threads == {"hwr-model"}


def test_a_model_failure_is_a_json_500_and_the_server_goes_on() -> None:
    runtime = GrayLevelRuntime(fail="device lost\n  File 'x.py', line 3")
    with app_server(make_app(runtime)) as url:
        wait_ready(url)
        response = httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG)
        assert response.status_code == 500
        assert response.json() == {"error": "model failure: device lost"}
        runtime.fail = None
        again = httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG)
        assert again.status_code == 200 and again.json()["results"][0]["text"] == letter_for(9)


def test_a_bug_in_a_route_is_a_json_500_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise KeyError("internal detail")

    monkeypatch.setattr(serve_app, "prepare", broken)
    with app_server(make_app(GrayLevelRuntime())) as url:
        wait_ready(url)
        response = httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG)
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/json"
        assert "internal server error" in response.json()["error"]
        assert "Traceback" not in response.text and "internal detail" not in response.text
        assert httpx.get(f"{url}/health").status_code == 200


def test_slow_recognition_times_out_with_504() -> None:
    runtime = GrayLevelRuntime(delay=1.0)
    with app_server(make_app(runtime, request_timeout_s=0.2)) as url:
        wait_ready(url)
        response = httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG)
        assert response.status_code == 504
        assert response.json() == {"error": "recognition did not finish within 0.2 s"}
        runtime.delay = 0.0
        while runtime.finished < 1:  # the model thread is still on the abandoned line
            time.sleep(0.01)
        assert httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG).status_code == 200


def test_a_stalled_upload_times_out_with_408(loopback: Any) -> None:
    with app_server(make_app(GrayLevelRuntime(), request_timeout_s=0.3)) as url:
        wait_ready(url)
        port = int(url.rsplit(":", 1)[1])
        head = "POST /transcribe HTTP/1.1\nHost: x\nContent-Type: image/png\nContent-Length: 1000\n"
        with loopback.send(port, head, b"\x89PNG") as sock:  # 4 of 1000 bytes, then nothing
            status, body = loopback.response(sock)
        assert status == 408 and b"did not arrive within 0.3 s" in body


def test_health_is_503_until_the_model_is_loaded() -> None:
    release = threading.Event()
    runtime = GrayLevelRuntime()

    def slow_load() -> Recognizer:
        release.wait(10)
        return Recognizer(runtime)  # type: ignore[arg-type]

    with app_server(make_app(runtime, load=slow_load)) as url:
        health = httpx.get(f"{url}/health")
        assert health.status_code == 503 and health.json() == {"status": "loading"}
        early = httpx.post(f"{url}/transcribe", content=gray_png(9), headers=PNG)
        assert early.status_code == 503 and "still loading" in early.json()["error"]
        assert httpx.get(f"{url}/model").status_code == 503
        release.set()
        wait_ready(url)
        info = httpx.get(f"{url}/model").json()
        assert info["contract"]["charset"] == FAKE_CONTRACT.charset
        assert info["model"]["sha256"] == "0" * 64


def test_a_model_that_fails_to_load_is_reported() -> None:
    def broken_load() -> Recognizer:
        raise HwrError("fake.onnx: cannot load ONNX model (truncated file)")

    failures: list[str] = []
    config = ServeConfig(log_requests=False)
    app = create_app(config, MODEL, broken_load, on_load_failed=failures.append)
    with app_server(app) as url:
        for _ in range(500):
            if failures:
                break
            time.sleep(0.01)
        health = httpx.get(f"{url}/health")
    assert failures == ["fake.onnx: cannot load ONNX model (truncated file)"]
    assert health.status_code == 503
    assert health.json() == {"status": "failed", "error": failures[0]}


def test_cors_is_off_unless_origins_are_named() -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with app_server(make_app(GrayLevelRuntime())) as url:
        wait_ready(url)
        plain = httpx.get(f"{url}/health", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in plain.headers
        assert (
            "access-control-allow-origin"
            not in httpx.options(f"{url}/transcribe", headers=preflight).headers
        )
    app = make_app(GrayLevelRuntime(), cors_origins=("https://app.example",), api_key="k")
    with app_server(app) as url:
        wait_ready(url)
        allowed = httpx.options(f"{url}/transcribe", headers=preflight)  # no key on a preflight
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.options(
            f"{url}/transcribe", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("host", "key", "warns"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.5", None, True),
        ("myhost.example", None, True),
        ("0.0.0.0", "secret", False),
    ],
)
def test_binding_beyond_loopback_without_a_key_warns(
    host: str, key: str | None, warns: bool
) -> None:
    warning = bind_warning(host, key)
    assert (warning is not None) == warns
    if warning:
        assert host in warning and "API key" in warning
    assert is_loopback(host) == (host in ("127.0.0.1", "localhost", "::1"))


def test_config_refuses_nonsense() -> None:
    with pytest.raises(HwrError, match="max_batch_size"):
        ServeConfig(max_batch_size=0)
    with pytest.raises(HwrError, match="API key is empty"):
        ServeConfig(api_key="  ")


def test_the_service_package_is_light_and_never_imports_upward() -> None:
    code = (
        "import sys, runtimes, runtimes.serve, runtimes.serve.config;"
        "print(sorted(m for m in ('torch', 'hwr_export', 'fastapi', 'uvicorn') if m in sys.modules))"
    )
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert light.stdout.strip() == "[]"
    code = "import sys, runtimes.serve.app, runtimes.serve.server; print('torch' in sys.modules, 'hwr_export' in sys.modules)"
    app = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert app.stdout.strip() == "False False"
