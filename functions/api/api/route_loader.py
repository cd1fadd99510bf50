"""Route modules imported and included on the first request for one of their paths.

A cold Lambda container serves one request before it can serve the next, and each request needs one
route module: importing all of them (their schemas, services, the database driver) and having FastAPI
analyse every route's dependencies at import costs more than FastAPI itself. So the app starts with no
routes and ``RouteLoader`` includes a module's router when a request first reaches one of its
prefixes; the OpenAPI document and ``load_all`` (tests, provisioned concurrency) include every module.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


def serves(prefix: str, path: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


class RouteLoader:
    """The app's route modules (module name -> path prefixes), each included at most once."""

    def __init__(self, app: FastAPI, modules: Mapping[str, tuple[str, ...]]) -> None:
        self._app = app
        self._pending = dict(modules)
        self._lock = threading.Lock()

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._pending)

    def load_for(self, path: str) -> None:
        if not self._pending:
            return
        for module, prefixes in list(self._pending.items()):
            if any(serves(prefix, path) for prefix in prefixes):
                self._include(module)

    def load_all(self) -> None:
        for module in list(self._pending):
            self._include(module)

    def _include(self, module: str) -> None:
        with self._lock:
            if module not in self._pending:
                return
            router = importlib.import_module(module).router
            if not isinstance(router, APIRouter):
                raise TypeError(f"{module}.router is not an APIRouter")
            self._app.include_router(router)
            del self._pending[module]


class RouteLoaderMiddleware:
    """Pure ASGI: make sure the request's route module is included before routing."""

    def __init__(self, app: ASGIApp, loader: RouteLoader) -> None:
        self.app = app
        self.loader = loader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.loader.load_for(scope["path"])
        await self.app(scope, receive, send)
