"""Run the service with uvicorn until SIGTERM or Ctrl-C.

On SIGTERM uvicorn stops accepting connections, lets the requests in flight finish (up to the
request timeout), then the app's shutdown runs what is still queued and stops the model thread.
If the model fails to load, the server stops at once and the exit status is 1.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from runtimes.recognizer import Recognizer
from runtimes.serve.auth import bind_warning
from runtimes.serve.config import ServeConfig, ServedModel

log = logging.getLogger("hwr.serve")
GRACE_S = 5.0  # beyond the request timeout, for answers to be written out


def setup_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s hwr serve: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def run_server(config: ServeConfig, model: ServedModel, load: Callable[[], Recognizer]) -> int:
    """Serve until stopped; 0 after a clean stop, 1 if the model could not be loaded."""
    import uvicorn

    from runtimes.serve.app import create_app

    setup_logging()
    warning = bind_warning(config.host, config.api_key)
    if warning:
        log.warning("warning: %s", warning)
    failure: list[str] = []
    server: uvicorn.Server | None = None

    def stop_on_load_failure(reason: str) -> None:
        failure.append(reason)
        log.error("error: %s", reason)
        if server is not None:
            server.should_exit = True

    app = create_app(config, model, load, on_load_failed=stop_on_load_failure)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            access_log=False,  # our own log line per request, with the image count
            log_level="info",
            timeout_graceful_shutdown=int(config.request_timeout_s + GRACE_S),
        )
    )
    log.info(
        "serving %s (%s, %s, sha256 %s) on http://%s:%d; batches up to %d lines, wait %g ms",
        model.path.name,
        model.runtime,
        model.device,
        model.sha256[:12],
        config.host,
        config.port,
        config.max_batch_size,
        config.max_wait_ms,
    )
    server.run()
    return 1 if failure else 0
