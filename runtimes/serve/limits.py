"""The request body size limit, enforced before and while the body is read.

A declared ``Content-Length`` above the limit is answered 413 at once, without reading a byte of
the body; a body without one (chunked) is counted as it streams in and refused as soon as it
passes the limit, so an oversized upload never sits whole in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtimes.serve.errors import error_response


class BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def too_large(self, size: str) -> str:
        return f"request body is above the {self.max_bytes:,} byte upload limit ({size})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await error_response(400, f"bad Content-Length {declared!r}")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                message = self.too_large(f"Content-Length {int(declared):,}")
                await error_response(413, message)(scope, receive, send)
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if started:
                raise
            message = self.too_large(f"refused after {received:,} bytes")
            await error_response(413, message)(scope, receive, send)
