"""Response shapes, for the OpenAPI page at /docs (the routes build plain JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LineResult(BaseModel):
    file: str = Field(description="The upload's file name ('body' for a raw-body image).")
    text: str | None = Field(None, description="The transcript (absent when `error` is set).")
    confidence: float | None = Field(None, description="Mean character confidence, 0..1.")
    char_confidences: list[float] | None = Field(
        None, description="One confidence per character of `text` (with ?char_confidences=true)."
    )
    error: str | None = Field(None, description="Why this image could not be read.")


class TranscribeResponse(BaseModel):
    results: list[LineResult] = Field(description="One per image, in upload order.")


class ErrorResponse(BaseModel):
    error: str = Field(description="What went wrong, naming the item and the problem.")
    results: list[LineResult] | None = None


class HealthResponse(BaseModel):
    status: str = Field(description="ok, loading or failed (503 unless ok).")
    error: str | None = None


class ModelResponse(BaseModel):
    hwr_version: str
    model: dict[str, Any] = Field(description="File name, sha256, runtime, device, decoder.")
    contract: dict[str, Any] = Field(description="Input height, normalization, charset, ...")
    batching: dict[str, Any]
    limits: dict[str, Any]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": why}
    for code, why in {
        400: "malformed request or no image in it",
        401: "missing or wrong API key",
        408: "the upload took longer than the request timeout",
        413: "body, image or image count above a limit",
        415: "not multipart/form-data nor image/*",
        422: "no image could be read (see each result's error)",
        500: "model failure",
        503: "model loading, or too many lines queued",
        504: "recognition took longer than the request timeout",
    }.items()
}

REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["file"],
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
