"""The routes: POST /transcribe, GET /health, /model, /metrics, OpenAPI docs at /docs.

Layers, outermost first: request log and counters, CORS (only with origins), API key (only with
a key), body size limit, then FastAPI, whose error handlers answer JSON.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request, Response
from fastapi.middleware import Middleware
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from runtimes.decode import Prediction
from runtimes.recognizer import Recognizer
from runtimes.serve import schemas
from runtimes.serve.auth import ApiKeyMiddleware
from runtimes.serve.batcher import (
    READY,
    MicroBatcher,
    ModelFailureError,
    NotReadyError,
    ServerBusyError,
)
from runtimes.serve.config import ServeConfig, ServedModel
from runtimes.serve.errors import ServiceError, error_response, install_error_handlers
from runtimes.serve.limits import BodyLimitMiddleware
from runtimes.serve.metrics import RequestLogMiddleware, ServeMetrics
from runtimes.serve.uploads import Problem, Upload, prepare, read_uploads

SHUTDOWN_WAIT_S = 10.0  # for the worker to finish what is queued once the server stops


def hwr_version() -> str:
    try:
        return importlib.metadata.version("hwr")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def create_app(
    config: ServeConfig,
    model: ServedModel,
    load: Callable[[], Recognizer],
    on_load_failed: Callable[[str], None] | None = None,
) -> FastAPI:
    """The service for one model; ``load`` builds the Recognizer in the model thread."""
    metrics = ServeMetrics()
    batcher = MicroBatcher(
        load,
        max_batch_size=config.max_batch_size,
        max_wait_s=config.max_wait_ms / 1000,
        max_queue_lines=config.max_queue_lines,
        on_batch=metrics.observe_batch,
        on_model_batch=metrics.model_batch_lines.observe,
        on_load_failed=on_load_failed,
    )
    metrics.queued_lines.set_function(lambda: batcher.queued_lines)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()  # loads the model in its own thread: /health says when it is ready
        yield
        await run_in_threadpool(batcher.close, SHUTDOWN_WAIT_S)

    layers = [Middleware(RequestLogMiddleware, metrics=metrics, log_requests=config.log_requests)]
    if config.cors_origins:
        layers.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    if config.api_key:
        layers.append(Middleware(ApiKeyMiddleware, api_key=config.api_key))
    layers.append(Middleware(BodyLimitMiddleware, max_bytes=config.max_upload_bytes))

    app = FastAPI(
        title="hwr",
        summary="Handwritten text line recognition",
        version=hwr_version(),
        lifespan=lifespan,
        middleware=layers,
    )
    app.state.batcher = batcher
    app.state.metrics = metrics
    install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/health", response_model=schemas.HealthResponse, responses={503: {}})
    async def health() -> JSONResponse:
        """200 once the model is loaded; 503 while it loads or if it failed."""
        if batcher.state == READY:
            return JSONResponse({"status": "ok"})
        body: dict[str, Any] = {"status": batcher.state}
        if batcher.error:
            body["error"] = batcher.error
        return JSONResponse(body, status_code=503)

    @app.get("/model", response_model=schemas.ModelResponse, responses=schemas.ERRORS)
    async def model_info() -> JSONResponse:
        """The model's contract, its file and hash, and the server's limits."""
        if batcher.contract is None:
            raise ServiceError(503, batcher.not_ready_message())
        return JSONResponse(
            {
                "hwr_version": hwr_version(),
                "model": {
                    "file": model.path.name,
                    "sha256": model.sha256,
                    "runtime": model.runtime,
                    "device": model.device,
                    "decoder": model.decoder,
                    "source": model.source.name if model.source else None,
                },
                "contract": batcher.contract.to_dict(),
                "batching": {
                    "max_batch_size": config.max_batch_size,
                    "max_wait_ms": config.max_wait_ms,
                },
                "limits": {
                    "max_upload_bytes": config.max_upload_bytes,
                    "max_image_pixels": config.max_image_pixels,
                    "max_images": config.max_images,
                    "max_queue_lines": config.max_queue_lines,
                    "request_timeout_s": config.request_timeout_s,
                },
            }
        )

    @app.get("/metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        """Counters in Prometheus text format."""
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.post(
        "/transcribe",
        response_model=schemas.TranscribeResponse,
        responses=schemas.ERRORS,
        openapi_extra=schemas.REQUEST_BODY,
    )
    async def transcribe(
        request: Request,
        char_confidences: Annotated[
            bool, Query(description="Also return one confidence per character.")
        ] = False,
    ) -> JSONResponse:
        """Line images in (multipart `file` fields, or one raw image/* body), one result each."""
        if batcher.state != READY:
            raise ServiceError(503, batcher.not_ready_message())
        stage = ["upload"]
        try:
            return await asyncio.wait_for(
                _transcribe(request, char_confidences, stage), config.request_timeout_s
            )
        except asyncio.TimeoutError:
            seconds = f"{config.request_timeout_s:g} s"
            if stage[0] == "upload":
                raise ServiceError(408, f"the upload did not arrive within {seconds}") from None
            raise ServiceError(504, f"recognition did not finish within {seconds}") from None

    async def _transcribe(request: Request, chars: bool, stage: list[str]) -> JSONResponse:
        assert batcher.contract is not None
        with batcher.incoming():
            uploads = await read_uploads(request, config.max_images)
            request.state.images = len(uploads)
            stage[0] = "prepare"
            prepared = await run_in_threadpool(
                prepare, uploads, batcher.contract, config.max_image_pixels
            )
            arrays = [item for item in prepared if isinstance(item, np.ndarray)]
            future = _submit(arrays) if arrays else None
        stage[0] = "model"
        try:
            predictions = await asyncio.wrap_future(future) if future else []
        except ModelFailureError as exc:
            raise ServiceError(500, str(exc)) from None
        except NotReadyError as exc:  # the server stopped before this line was run
            raise ServiceError(503, str(exc)) from None
        results = _results(uploads, prepared, predictions, chars)
        if not arrays:
            first = next(item for item in prepared if isinstance(item, Problem))
            return error_response(first.status, first.message, results=results)
        return JSONResponse({"results": results})

    def _submit(arrays: list[np.ndarray]) -> Future[list[Prediction]]:
        try:
            return batcher.submit(arrays)
        except ServerBusyError as exc:
            raise ServiceError(503, str(exc), {"Retry-After": "1"}) from None
        except NotReadyError as exc:
            raise ServiceError(503, str(exc)) from None

    return app


def _results(
    uploads: list[Upload],
    prepared: list[np.ndarray | Problem],
    predictions: list[Prediction],
    chars: bool,
) -> list[dict[str, Any]]:
    """One record per upload, like `hwr transcribe`'s JSON lines."""
    results: list[dict[str, Any]] = []
    remaining = iter(predictions)
    for upload, item in zip(uploads, prepared, strict=True):
        if isinstance(item, Problem):
            results.append({"file": upload.name, "error": item.message})
            continue
        prediction = next(remaining)
        record: dict[str, Any] = {
            "file": upload.name,
            "text": prediction.text,
            "confidence": round(prediction.confidence, 4),
        }
        if chars:
            record["char_confidences"] = [round(c, 4) for c in prediction.char_confidences]
        results.append(record)
    return results
