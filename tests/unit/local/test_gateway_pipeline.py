"""The gateway runs the CloudFront trigger order with real event shapes (handlers here are stand-ins)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.events import HttpRequest, HttpResponse
from local.gateway import EdgeFunctions, Gateway
from local.runtime import LocalFunction
from local.scheduler import CompressedScheduler, Schedule, period_seconds
from tests.unit.local import handlers_for_tests

MODULE = "tests.unit.local.handlers_for_tests"


def fn(name: str) -> LocalFunction:
    return LocalFunction(name, f"{MODULE}.{name}", timeout=5)


def local_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, [("content-type", "text/plain")], b"local")


@pytest.fixture
def gateway() -> Gateway:
    handlers_for_tests.calls.clear()
    edge = EdgeFunctions(fn("viewer_request"), fn("origin_request"), fn("viewer_response"))
    return Gateway(
        edge=edge, api=fn("origin"), receiver=fn("origin"), local_page=local_page, viewer_country="FR"
    )


def request(path: str, **kwargs: Any) -> HttpRequest:
    headers = kwargs.pop("headers", [("Authorization", "Bearer t"), ("Cookie", "a=b")])
    return HttpRequest(
        method=kwargs.pop("method", "GET"),
        path=path,
        query=kwargs.pop("query", ""),
        headers=headers,
        body=b"",
    )


def test_api_request_runs_all_triggers_in_order_and_reaches_the_origin(gateway: Gateway) -> None:
    response = gateway.handle(request("/api/v1/projects", query="limit=2"))
    assert response.status == 200
    assert [name for name, _ in handlers_for_tests.calls] == [
        "viewer_request",
        "origin_request",
        "origin",
        "viewer_response",
    ]
    echo = json.loads(response.body)
    assert echo["path"] == "/api/v1/projects"
    assert echo["query"] == "limit=2"
    assert echo["headers"]["x-auth-user"] == "user-1"  # set by viewer-request
    assert echo["headers"]["x-flags"] == "beta=1"  # set by origin-request
    assert echo["headers"]["cloudfront-viewer-country"] == "FR"
    assert "authorization" not in echo["headers"]
    assert echo["cookies"] == ["a=b"]
    assert 0 < echo["remaining_ms"] <= 5000
    assert response.header("x-frame-options") == "DENY"  # set by viewer-response
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1; Path=/", "b=2; Path=/"]


def test_a_response_generated_at_viewer_request_skips_the_origin(gateway: Gateway) -> None:
    response = gateway.handle(request("/api/v1/private"))
    assert response.status == 401
    assert [name for name, _ in handlers_for_tests.calls] == ["viewer_request"]


def test_paths_without_a_behavior_are_404_problems_and_local_pages_bypass_the_edge(gateway: Gateway) -> None:
    missing = gateway.handle(request("/nothing/here"))
    assert missing.status == 404
    assert missing.header("content-type") == "application/problem+json"
    assert gateway.handle(request("/_local/status")).body == b"local"
    assert [name for name, _ in handlers_for_tests.calls] == ["viewer_request"]


def test_a_missing_handler_is_a_502_problem_not_a_crash() -> None:
    edge = EdgeFunctions(
        LocalFunction("v", "no_such_module.handler", timeout=5), fn("origin_request"), fn("viewer_response")
    )
    gateway = Gateway(edge=edge, api=fn("origin"), receiver=fn("origin"), local_page=local_page)
    response = gateway.handle(request("/api/v1/health"))
    assert response.status == 502
    assert "no_such_module" in json.loads(response.body)["detail"]


def test_schedules_fire_on_a_compressed_timetable() -> None:
    assert period_seconds("rate(1 hour)") == 3600
    assert period_seconds("rate(5 minutes)") == 300
    assert period_seconds("cron(0 3 * * ? *)") == 86400
    with pytest.raises(ValueError, match="unsupported"):
        period_seconds("every tuesday")
    scheduler = CompressedScheduler(
        [Schedule("hourly", "rate(1 hour)", {"job": "x"}), Schedule("daily", "cron(0 3 * * ? *)")],
        LocalFunction("s", f"{MODULE}.scheduled", timeout=5),
        compression=360.0,
        minimum_period=1.0,
    )
    assert scheduler.due(0.0) == []  # first run is one (compressed) period away
    assert [s.name for s in scheduler.due(10.0)] == ["hourly"]  # 3600 s / 360 = 10 s
    assert [s.name for s in scheduler.due(240.0)] == ["hourly", "daily"]
    handlers_for_tests.calls.clear()
    scheduler.fire(Schedule("hourly", "rate(1 hour)", {"job": "x"}))
    scheduler.fire(Schedule("daily", "cron(0 3 * * ? *)"))
    assert handlers_for_tests.calls[0][1] == {"job": "x"}  # the schedule's Input is the event
    assert handlers_for_tests.calls[1][1]["detail-type"] == "Scheduled Event"
    assert scheduler.fired == {"hourly": 1, "daily": 1}


def test_a_mangum_handler_runs_from_any_request_thread() -> None:
    """Mangum needs an event loop; request threads get their own, closed when the thread ends."""
    import threading

    edge = EdgeFunctions(fn("viewer_request"), fn("origin_request"), fn("viewer_response"))
    api = LocalFunction("api", f"{MODULE}.mangum_handler", timeout=5, needs_event_loop=True)
    gateway = Gateway(edge=edge, api=api, receiver=api, local_page=local_page)
    results: list[HttpResponse] = []
    threads = [
        threading.Thread(target=lambda: results.append(gateway.handle(request("/api/v1/ping"))))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [json.loads(r.body) for r in results] == [{"pong": "yes"}] * 4
