"""A /transcribe request body to named images, and images to model input.

Two ways to send images: multipart/form-data with one or more ``file`` fields (browsers, curl -F),
or the raw bytes of one image with an ``image/*`` content type (curl --data-binary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from runtimes.contract import ModelContract
from runtimes.errors import ImageError, ImageTooLargeError
from runtimes.preprocess import decode_image, to_model_input
from runtimes.serve.errors import ServiceError

FIELD = "file"
RAW_NAME = "body"  # how a raw-body image is named in results and errors
HOW_TO_SEND = (
    f"send multipart/form-data with '{FIELD}' fields, or the raw bytes of one image with an "
    "image/* Content-Type"
)


@dataclass
class Upload:
    name: str
    data: bytes


@dataclass
class Problem:
    """An image that cannot be read: the status it would answer alone, and why."""

    status: int
    message: str


async def read_uploads(request: Request, max_images: int) -> list[Upload]:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return await _read_form(request, max_images)
    if media.startswith("image/"):
        data = await request.body()
        if not data:
            raise ServiceError(400, f"empty request body: {HOW_TO_SEND}")
        return [Upload(RAW_NAME, data)]
    if not media:
        raise ServiceError(415, f"no Content-Type: {HOW_TO_SEND}")
    raise ServiceError(415, f"unsupported Content-Type {media!r}: {HOW_TO_SEND}")


async def _read_form(request: Request, max_images: int) -> list[Upload]:
    try:
        form_context = request.form(max_files=max_images, max_fields=max_images + 100)
        async with form_context as form:
            fields = form.getlist(FIELD)
            uploads = []
            for i, item in enumerate(fields, 1):
                if not isinstance(item, UploadFile):
                    raise ServiceError(400, f"form field '{FIELD}' #{i} is text, not a file upload")
                uploads.append(Upload(item.filename or f"{FIELD} #{i}", await item.read()))
            others = sorted(set(form.keys()) - {FIELD})
    except ServiceError:
        raise
    except HTTPException as exc:  # Starlette's multipart errors (malformed, too many files)
        status = 413 if "Too many files" in str(exc.detail) else 400
        raise ServiceError(status, f"multipart body: {exc.detail}") from None
    if not uploads:
        found = f" (found: {', '.join(repr(k) for k in others)})" if others else ""
        raise ServiceError(400, f"no '{FIELD}' field in the form{found}: {HOW_TO_SEND}")
    return uploads


def prepare(
    uploads: list[Upload], contract: ModelContract, max_pixels: int
) -> list[np.ndarray | Problem]:
    """Model input per upload, or the Problem that stops it (runs in a worker thread)."""
    prepared: list[np.ndarray | Problem] = []
    for upload in uploads:
        try:
            image = decode_image(upload.data, upload.name, max_pixels)
            prepared.append(to_model_input(image, contract))
        except ImageTooLargeError as exc:
            prepared.append(Problem(413, str(exc)))
        except ImageError as exc:
            message = str(exc)
            if not message.startswith(upload.name):  # to_model_input does not know the name
                message = f"{upload.name}: {message}"
            prepared.append(Problem(422, message))
    return prepared
