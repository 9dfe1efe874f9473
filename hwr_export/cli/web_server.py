"""The static server behind `hwr web` (and the browser tests): the right MIME types (.wasm,
.mjs) and the cross-origin isolation headers (COOP/COEP) that let ONNX Runtime Web use threads.

Its own module so that `hwr` does not import ``http.server`` for every other command.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from runtimes.errors import HwrError

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".onnx": "application/octet-stream",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
}


class WebExportHandler(SimpleHTTPRequestHandler):
    """Static files with cross-origin isolation headers; quiet unless ``verbose``."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    verbose = False
    isolate = True  # send COOP/COEP (False: to measure the page as a plain server hosts it)

    def end_headers(self) -> None:
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if self.verbose:
            super().log_message(format, *args)


def check_web_folder(folder: Path) -> None:
    missing = [name for name in ("index.html", "hwr.js") if not (folder / name).is_file()]
    if not folder.is_dir() or missing:
        raise HwrError(
            f"{folder}: not a web export (no {missing[0] if missing else 'folder'}); "
            "make one with `hwr export --format web --out DIR`"
        )


def start_server(
    folder: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    verbose: bool = False,
    isolate: bool = True,
) -> ThreadingHTTPServer:
    """Serve ``folder`` from a background thread; port 0 picks a free port."""
    settings = {"verbose": verbose, "isolate": isolate}
    handler = functools.partial(
        type("Handler", (WebExportHandler,), settings), directory=str(folder)
    )
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise HwrError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
