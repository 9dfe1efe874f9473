"""Access: an optional API key on every route but /health, and the bind-address warning."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from runtimes.serve.errors import error_response

OPEN_PATHS = frozenset({"/health"})  # load balancers probe it without credentials


class ApiKeyMiddleware:
    """``Authorization: Bearer KEY`` or 401; keys are compared in constant time."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization")
        scheme, _, token = (header or "").partition(" ")
        if header is None or scheme.lower() != "bearer":
            problem = "missing API key: send the header 'Authorization: Bearer KEY'"
        elif not hmac.compare_digest(token.strip().encode("utf-8"), self.key):
            problem = "wrong API key"
        else:
            await self.app(scope, receive, send)
            return
        response = error_response(401, problem, {"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def bind_warning(host: str, api_key: str | None) -> str | None:
    """The warning for serving beyond this machine without a key, or None."""
    if is_loopback(host) or api_key:
        return None
    return (
        f"serving on {host}, reachable from other machines, without an API key: anyone who can "
        "reach this port can use the model (set --api-key or HWR_API_KEY)"
    )
