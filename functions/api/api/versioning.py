"""API versions side by side, per-version OpenAPI documents and deprecation headers.

Each version is a path prefix (``/api/v1``, ``/api/v2``) whose routers are ordinary route modules in
``ROUTE_MODULES`` (loaded on first use like every other). A version's OpenAPI document describes only its
own operations (``/api/v1/openapi.json`` also keeps the unversioned public paths it always listed).

A deprecated operation declares ``**deprecated(Deprecation(...))`` in its route decorator: OpenAPI marks it
``deprecated`` and every answer carries ``Deprecation`` (RFC 9745: an Item of type Date, ``@<unix
seconds>``), ``Sunset`` (RFC 8594: an HTTP-date) and ``Link`` with ``rel="deprecation"`` and
``rel="sunset"`` (the policy) and ``rel="successor-version"`` when there is one. The headers travel through
the request state to ``api.middleware`` because routes that answer with a ``Response`` of their own (the
idempotent writes) would drop headers set on FastAPI's injected response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

VERSIONS: Final = ("v1", "v2")
CURRENT: Final = "v1"
POLICY_URL: Final = "/api/docs#versioning"
STATE_KEY: Final = "deprecation_headers"


def prefix(version: str) -> str:
    return f"/api/{version}"


def openapi_url(version: str) -> str:
    return f"{prefix(version)}/openapi.json"


def version_of(path: str) -> str | None:
    for version in VERSIONS:
        if path == prefix(version) or path.startswith(prefix(version) + "/"):
            return version
    return None


@dataclass(frozen=True, slots=True)
class Deprecation:
    """When an operation was deprecated, when it goes away, and what replaces it."""

    deprecated_at: datetime
    sunset_at: datetime
    successor: str | None = None
    policy: str = POLICY_URL

    def __post_init__(self) -> None:
        if self.deprecated_at.tzinfo is None or self.sunset_at.tzinfo is None:
            raise ValueError("deprecation dates must be timezone-aware")
        if self.sunset_at < self.deprecated_at:
            raise ValueError("an operation cannot be sunset before it is deprecated")

    def headers(self) -> dict[str, str]:
        links = [f'<{self.policy}>; rel="deprecation"', f'<{self.policy}>; rel="sunset"']
        if self.successor:
            links.insert(0, f'<{self.successor}>; rel="successor-version"')
        return {
            "Deprecation": f"@{int(self.deprecated_at.timestamp())}",
            "Sunset": format_datetime(self.sunset_at.astimezone(UTC), usegmt=True),
            "Link": ", ".join(links),
        }


class DeprecationHeaders:
    """The dependency behind ``deprecated``: hands the headers to the response middleware."""

    def __init__(self, deprecation: Deprecation) -> None:
        self.deprecation = deprecation

    async def __call__(self, request: Request) -> None:
        setattr(request.state, STATE_KEY, self.deprecation.headers())


def deprecated(deprecation: Deprecation) -> dict[str, Any]:
    """Route decorator arguments of a deprecated operation: ``@router.get(..., **deprecated(...))``."""
    return {"deprecated": True, "dependencies": [Depends(DeprecationHeaders(deprecation))]}


def _belongs(path: str, version: str) -> bool:
    found = version_of(path)
    return found == version or (found is None and version == CURRENT)


def version_document(app: FastAPI, version: str, routes: Sequence[Any]) -> dict[str, Any]:
    """The OpenAPI document of one version: its own operations (v1 also the unversioned public ones)."""
    selected: list[RouteContext] = [
        context
        for context in iter_route_contexts(routes)
        if isinstance(context.original_route, APIRoute) and context.path and _belongs(context.path, version)
    ]
    return get_openapi(
        title=app.title,
        version=f"{version.removeprefix('v')}.0.0",
        openapi_version=app.openapi_version,
        description=f"API {version}; versioning and deprecation policy: docs/api.md",
        routes=selected,
    )
