"""Fixtures shared by every test."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_user_fonts(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Tests see an empty font cache, as CI does, whatever the developer's machine has."""
    from hwr_export.data import synthetic
    from hwr_export.data.fonts.catalog import warn_no_fonts_once

    find_fonts = synthetic.find_handwriting_fonts  # a test may monkeypatch the module attribute
    monkeypatch.setenv("HWR_FONTS_DIR", str(tmp_path_factory.mktemp("no-fonts")))
    find_fonts.cache_clear()
    warn_no_fonts_once.cache_clear()
    yield
    find_fonts.cache_clear()


class Loopback:
    """Servers under test listen on 127.0.0.1 only. Raw HTTP/1.1 over a socket does what a client
    library will not: declare a body and send none of it, stall an upload, stream chunks forever."""

    host = "127.0.0.1"

    def free_port(self) -> int:
        with socket.socket() as sock:
            sock.bind((self.host, 0))
            return int(sock.getsockname()[1])

    def send(self, port: int, head: str, body: bytes = b"") -> socket.socket:
        """Open a connection and send a request head ("\\n"-separated lines), maybe some body."""
        sock = socket.create_connection((self.host, port), timeout=30)
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        return sock

    def response(self, sock: socket.socket) -> tuple[int, bytes]:
        """Status and body of the answer on ``sock``."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lengths = [
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ]
        while lengths and len(body) < lengths[0]:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(head.split(b" ", 2)[1]), body


@pytest.fixture(scope="session")
def loopback() -> Loopback:
    return Loopback()
