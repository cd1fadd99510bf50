"""One pure-ASGI middleware for what every response needs: body size limit, request id, rate-limit
headers computed by the dependencies, ``Cache-Control: no-store`` unless a route chose otherwise, and
``Location`` headers that never name the origin's own host."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.exceptions import PayloadTooLargeError
from api.problems import problem_response
from api.settings import get_settings
from saascore.observability import get_logger
from saascore.problems import Problem

logger = get_logger("api")


class ResponseEnvelopeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @property
    def max_body_bytes(self) -> int:
        return get_settings().max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        host = headers.get("host", "")
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        logger.append_keys(request_id=request_id)
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            # PostgreSQL text cannot hold U+0000; a NUL in a filter or id is a client error, not a 500.
            nul = Problem(
                400, "Bad request", "bad-request", "the URL must not contain %00", scope.get("path")
            )
            await problem_response(nul, headers={"x-request-id": request_id})(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            response = problem_response(self._too_large(scope), headers={"x-request-id": request_id})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLargeError(f"the body exceeds {self.max_body_bytes} bytes")
            return message

        async def decorated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [
                    (key, _relative_location(value, host) if key.lower() == b"location" else value)
                    for key, value in message.get("headers", [])
                ]
                present = {key.lower() for key, _ in raw}
                extra = {
                    "x-request-id": request_id,
                    **state.get("rate_limit_headers", {}),
                    **state.get("deprecation_headers", {}),  # api.versioning
                }
                raw.extend(
                    (k.lower().encode(), v.encode())
                    for k, v in extra.items()
                    if k.lower().encode() not in present
                )
                if b"cache-control" not in present:
                    raw.append((b"cache-control", b"no-store"))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, limited_receive, decorated_send)

    def _too_large(self, scope: Scope) -> Problem:
        return Problem(
            413,
            PayloadTooLargeError.title,
            PayloadTooLargeError.slug,
            f"the body exceeds {self.max_body_bytes} bytes",
            scope.get("path"),
        )


def _relative_location(value: bytes, host: str) -> bytes:
    """A redirect to the request's own host as a path (RFC 9110 §10.2.2 allows a relative reference).

    Behind CloudFront the Host the app sees is the Function URL's, so an absolute ``Location`` built from it
    (Starlette's trailing-slash redirect) would send clients around CloudFront, to an internal host.
    """
    location = urlsplit(value.decode("latin-1"))
    if location.scheme not in ("http", "https") or location.netloc.lower() != host.lower():
        return value
    return urlunsplit(("", "", location.path or "/", location.query, location.fragment)).encode("latin-1")
