"""The origin API: FastAPI app and its Lambda entry (Function URL and HTTP API v2 events via Mangum)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from api.middleware import ResponseEnvelopeMiddleware
from api.problems import document_problems, install_problem_handlers
from api.request_metrics import RequestMetricsMiddleware
from api.route_loader import RouteLoader, RouteLoaderMiddleware
from api.routes import ROUTE_MODULES
from api.versioning import CURRENT, VERSIONS, openapi_url, version_document
from saascore.observability import get_logger, get_metrics

SERVICE = "api"
OPENAPI_URL = openapi_url(CURRENT)
# Initialisation off the request path: there, building every route up front costs no request anything.
EAGER_INITIALIZATION_TYPES = frozenset({"provisioned-concurrency", "snap-start"})

logger = get_logger(SERVICE)
metrics = get_metrics(SERVICE)


def create_app() -> tuple[FastAPI, RouteLoader]:
    """The app and its route loader; routes are included on first use, or all at once by ``load_all``."""
    app = FastAPI(
        title="SaaS platform API",
        version="1.0.0",
        openapi_url=OPENAPI_URL,
        docs_url="/api/docs",
        redoc_url=None,
    )
    routes = RouteLoader(app, ROUTE_MODULES)
    install_problem_handlers(app)
    app.add_middleware(RouteLoaderMiddleware, loader=routes)
    app.add_middleware(ResponseEnvelopeMiddleware)
    app.add_middleware(RequestMetricsMiddleware)  # outermost: measures what the client got

    documents: dict[str, dict[str, Any]] = {}

    def document(version: str) -> dict[str, Any]:
        routes.load_all()
        if version not in documents:
            documents[version] = document_problems(version_document(app, version, app.routes))
        return documents[version]

    def openapi() -> dict[str, Any]:
        app.openapi_schema = document(CURRENT)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for version in VERSIONS:
        if version != CURRENT:

            async def serve(request: Request, version: str = version) -> JSONResponse:
                return JSONResponse(document(version))

            app.add_route(openapi_url(version), serve, methods=["GET"], include_in_schema=False)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in EAGER_INITIALIZATION_TYPES:
        routes.load_all()
    return app, routes


app, routes = create_app()
# Problem documents are text: without this Mangum would base64-encode them for the Function URL.
TEXT_MIME_TYPES = [
    "application/json",
    "application/problem+json",
    "application/scim+json",
    "application/x-ndjson",
    "application/vnd.oai.openapi",
    "text/html",
]
asgi_handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


def _invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = asgi_handler(event, context)
    return response


def _entry() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Logger and metrics always; the X-Ray Tracer only when asked for, since importing aws_xray_sdk is
    about a third of this module's import time (Lambda active tracing still records the invocation)."""
    entry = _invoke
    if os.environ.get("API_TRACING", "").lower() == "true":
        from saascore.observability import get_tracer

        entry = get_tracer(SERVICE).capture_lambda_handler(entry)
    entry = metrics.log_metrics(capture_cold_start_metric=True)(entry)
    wrapped: Callable[[dict[str, Any], Any], dict[str, Any]] = logger.inject_lambda_context(clear_state=True)(
        entry
    )
    return wrapped


handler = _entry()
