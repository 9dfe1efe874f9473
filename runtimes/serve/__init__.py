"""`hwr serve`: an HTTP recognition service (FastAPI + uvicorn, the optional ``serve`` extra).

    from runtimes.serve import ServeConfig, run_server
    run_server(ServeConfig(port=8000), ServedModel.describe("model.onnx"), load_recognizer)

Torch-free like the rest of ``runtimes``; FastAPI and uvicorn are imported only by the modules
that need them, so ``import runtimes.serve`` stays light and works without the extra.

Modules: ``config`` (the settings), ``batcher`` (one thread owns the Recognizer; requests are
gathered into micro-batches), ``uploads`` (request body to model input), ``limits`` (body size),
``auth`` (API key, bind checks), ``metrics`` (Prometheus counters and the request log),
``errors`` (every error a JSON body), ``app`` (the routes), ``server`` (uvicorn, signals).
"""

from __future__ import annotations

from runtimes.serve.config import ServeConfig, ServedModel

__all__ = ["ServeConfig", "ServedModel", "create_app", "require_serve_extra", "run_server"]

REQUIRED_MODULES = ("fastapi", "uvicorn", "multipart", "prometheus_client")


def require_serve_extra() -> None:
    """Fail with one line naming the install command when the ``serve`` extra is missing."""
    import importlib.util

    from runtimes.errors import HwrError

    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise HwrError(
            f"hwr serve needs the serve extra ({', '.join(missing)} not installed): "
            "pip install 'hwr[serve]'"
        )


def __getattr__(name: str) -> object:
    if name == "create_app":
        from runtimes.serve.app import create_app

        return create_app
    if name == "run_server":
        from runtimes.serve.server import run_server

        return run_server
    raise AttributeError(f"module 'runtimes.serve' has no attribute {name!r}")
