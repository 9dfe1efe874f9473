"""Helpers for the `hwr serve` tests: free loopback ports, servers in a thread or a process,
fake runtimes whose output says which line they read, raw HTTP over a socket."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np

from runtimes.contract import ModelContract
from runtimes.recognizer import Recognizer

HOST = "127.0.0.1"
FAKE_CHARSET = "abcdefghijklmnopqrstu"
FAKE_CONTRACT = ModelContract(preset="fake", input_height=16, charset=FAKE_CHARSET, min_width=16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


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
    import io

    from PIL import Image

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

    port = free_port()
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


def wait_healthy(url: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy within {timeout} s")


def start_cli_server(
    args: list[str], log_path: Path, env: dict[str, str]
) -> tuple[subprocess.Popen, str]:
    """`hwr serve ARGS --port FREE` as a process, its stderr in ``log_path``; waits for /health."""
    port = free_port()
    command = [sys.executable, "-m", "hwr_export.cli", "serve", *args, "--port", str(port)]
    log = log_path.open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://{HOST}:{port}"
    try:
        wait_healthy(url, process)
    except RuntimeError:
        process.kill()
        process.wait()
        raise RuntimeError(log_path.read_text()) from None
    return process, url


def raw_request(port: int, head: str, body: bytes = b"") -> socket.socket:
    """Open a connection and send a request head (and maybe part of a body); the caller reads."""
    sock = socket.create_connection((HOST, port), timeout=30)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    return sock


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of the answer on ``sock`` (reads until the server closes or the body ends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    while length is not None and len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body
