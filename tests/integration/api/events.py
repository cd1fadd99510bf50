"""Lambda events for the API handler, built from real samples in ``tests/events/api/``."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "api"


@cache
def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return loaded


def http_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: Any = None,
    sample: str = "function_url_iam.json",
) -> dict[str, Any]:
    """A payload-format 2.0 event (Function URL by default; ``http_api_v2.json`` for HTTP API)."""
    event = copy.deepcopy(_sample(sample))
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["queryStringParameters"] = None
    event["cookies"] = []
    event["headers"] = {"content-type": "application/json", "user-agent": "bench", **(headers or {})}
    event["requestContext"]["http"].update({"method": method, "path": path, "sourceIp": "198.51.100.7"})
    event["requestContext"]["accountId"] = "123456789012"
    event["pathParameters"] = None
    event["body"] = None if body is None else json.dumps(body)
    event["isBase64Encoded"] = False
    return event
