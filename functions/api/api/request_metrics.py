"""Pure-ASGI middleware: one metrics record per request (route template, status, latency, tenant, plan).

Outermost, so it sees what the client got: the body-size and NUL refusals of the envelope middleware too,
and a 500 for an exception that escapes the app (Starlette's error middleware answers outside this one).
The route is the template FastAPI matched (`/api/v1/projects/{project_id}`), never the client's path, and
the tenant and plan come from the verified principal, never from a header.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import get_settings
from saascore.metrics import record_request


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            principal = state.get("principal")
            method = str(scope.get("method", ""))
            route = scope.get("route")
            # A 405 carries the route of the path it did not allow: not a template this method serves.
            served = method in (getattr(route, "methods", None) or ())
            record_request(
                route=getattr(route, "path_format", None) if served else None,
                method=method,
                per_route=get_settings().metrics_per_route,
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000,
                tenant_id=getattr(principal, "tenant_id", None),
                plan=getattr(principal, "plan", None),
                request_id=state.get("request_id"),
            )
