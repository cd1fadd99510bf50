"""The RFC 9457 problem document the edge emits (the origin's problems share `type` base and members)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://errors.saas.example/"
MAX_DETAIL_CHARS = 512
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def problem_document(status: int, slug: str, detail: str, *, request_id: str) -> dict[str, Any]:
    """`type` is PROBLEM_TYPE_BASE + slug; `detail` is cut to MAX_DETAIL_CHARS; `request_id` always set."""
    return {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": STATUS_TEXT.get(status, "Error"),
        "status": status,
        "detail": detail[:MAX_DETAIL_CHARS],
        "request_id": request_id,
    }
