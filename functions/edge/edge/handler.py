"""Lambda@Edge entry points: `edge.handler.viewer_request`, `.origin_request`, `.viewer_response`.

Each parses `Records[0].cf`, runs one trigger function, and turns any unexpected error into a 500
problem+json with the request id, logged once as JSON. `configure(...)` is for tests and the local stack.
"""

from __future__ import annotations

from edge import triggers
from edge.log import log
from edge.responses import problem
from edge.runtime import configure, get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any

    from edge.runtime import Runtime

    Trigger = Callable[[Runtime, MutableMapping[str, Any]], dict[str, Any]]

__all__ = ["configure", "origin_request", "viewer_request", "viewer_response"]


def _run(name: str, trigger: Trigger, event: Any) -> dict[str, Any]:
    cf: Any = None
    try:
        cf = event["Records"][0]["cf"]
        return trigger(get_runtime(cf), cf)
    # Whatever failed, the edge must still answer; the error is logged once with its type.
    except Exception as exc:
        request_id = triggers.request_id_of(cf if isinstance(cf, dict) else {})
        log(
            "ERROR",
            "edge trigger failed",
            trigger=name,
            request_id=request_id,
            error=type(exc).__name__,
            detail=str(exc)[:300],
        )
        return problem(500, "internal", "unexpected error at the edge", request_id=request_id)


def viewer_request(event: Any, context: Any = None) -> dict[str, Any]:
    return _run("viewer-request", triggers.viewer_request, event)


def origin_request(event: Any, context: Any = None) -> dict[str, Any]:
    return _run("origin-request", triggers.origin_request, event)


def viewer_response(event: Any, context: Any = None) -> dict[str, Any]:
    return _run("viewer-response", triggers.viewer_response, event)
