"""`hwr web DIR`: serve a web export (``hwr export --format web``) on this machine.

    hwr export --format web --out site/
    hwr web site/                       # then open http://127.0.0.1:8000/

A plain static server with the right MIME types (.wasm, .mjs) and the two cross-origin isolation
headers (COOP/COEP), which let ONNX Runtime Web use WASM threads. Any other static server works
too; without those headers the page runs on one thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from hwr_export.cli.common import user_errors


@user_errors
def web_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by `hwr export --format web`.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8000,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every request.")] = False,
) -> None:
    from hwr_export.cli.web_server import check_web_folder, start_server

    check_web_folder(folder)
    server = start_server(folder, host, port, verbose)
    typer.echo(
        f"hwr web: serving {folder} at http://{host}:{server.server_address[1]}/ (Ctrl+C stops)"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
