"""CloudFront header lists and the responses the edge generates itself (RFC 9457 problem+json)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from saascontracts.problems import PROBLEM_CONTENT_TYPE, problem_document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# CloudFront refuses a generated viewer-request response body over 40 KB.
MAX_GENERATED_BODY_BYTES = 40 * 1024

CfHeaders = dict[str, list[dict[str, str]]]


def header_entry(name: str, value: str) -> list[dict[str, str]]:
    return [{"key": name, "value": value}]


def first_value(headers: Mapping[str, Any], name: str) -> str | None:
    entries = headers.get(name)
    if not entries:
        return None
    first = entries[0]
    value = first.get("value") if type(first) is dict else None
    return value if type(value) is str else None


def all_values(headers: Mapping[str, Any], name: str) -> list[str]:
    entries = headers.get(name)
    if not entries:
        return []
    return [entry["value"] for entry in entries if type(entry) is dict and type(entry.get("value")) is str]


def problem(
    status: int,
    slug: str,
    detail: str,
    *,
    request_id: str,
    headers: Iterable[tuple[str, str]] = (),
    security_headers: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A complete CloudFront generated response; never cached, always within CloudFront's size limit."""
    document = problem_document(status, slug, detail, request_id=request_id)
    title = document["title"]
    body = json.dumps(document, separators=(",", ":"))
    out: CfHeaders = {
        "content-type": header_entry("Content-Type", PROBLEM_CONTENT_TYPE),
        "cache-control": header_entry("Cache-Control", "no-store"),
        "x-request-id": header_entry("X-Request-Id", request_id),
    }
    for name, value in (*security_headers, *headers):
        out[name.lower()] = header_entry(name, value)
    return {
        "status": str(status),
        "statusDescription": title,
        "headers": out,
        "bodyEncoding": "text",
        "body": body[:MAX_GENERATED_BODY_BYTES],
    }
