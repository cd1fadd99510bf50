"""Lambda handlers the local-stack unit tests invoke by dotted name, as the stack invokes real ones."""

from __future__ import annotations

import json
from typing import Any

calls: list[tuple[str, dict[str, Any]]] = []


def viewer_request(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(("viewer_request", event))
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    if request["uri"] == "/api/v1/private":
        return {
            "status": "401",
            "headers": {"content-type": [{"key": "Content-Type", "value": "application/problem+json"}]},
            "body": json.dumps({"status": 401, "title": "Unauthorized"}),
        }
    request["headers"]["x-auth-user"] = [{"key": "x-auth-user", "value": "user-1"}]
    return request


def origin_request(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(("origin_request", event))
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    request["headers"]["x-flags"] = [{"key": "x-flags", "value": "beta=1"}]
    return request


def viewer_response(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(("viewer_response", event))
    response: dict[str, Any] = event["Records"][0]["cf"]["response"]
    response["headers"]["x-frame-options"] = [{"key": "X-Frame-Options", "value": "DENY"}]
    return response


def origin(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(("origin", event))
    echo = {
        "path": event["rawPath"],
        "query": event["rawQueryString"],
        "headers": event["headers"],
        "cookies": event.get("cookies", []),
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["a=1; Path=/", "b=2; Path=/"],
        "body": json.dumps(echo),
    }


def sqs_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails every record whose body is "poison"; raises on "explode"."""
    calls.append(("sqs_batch", event))
    bodies = [record["body"] for record in event["Records"]]
    if "explode" in bodies:
        raise RuntimeError("the whole batch fails")
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
    return {"batchItemFailures": failures}


def scheduled(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(("scheduled", event))
    return {"ok": True}


def _mangum_app() -> Any:
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()

    @app.get("/api/v1/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return Mangum(app, lifespan="off")


mangum_handler = _mangum_app()
