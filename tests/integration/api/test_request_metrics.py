"""Every API request leaves one latency/errors and one requests EMF document: the route template (never the
client's path), the verified tenant as a property, the outcome class; usage reports its share of the limit."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from saascore.billing.plans import TRIAL_PLAN


def _documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [
        document
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
        for document in [json.loads(line)]
    ]


def _latency(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in documents if "Latency" in d]


def _requests(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in documents if "Requests" in d]


def test_a_tenant_request_is_measured_by_route_template_with_the_tenant_as_property(api, capsys):
    owner = api.sign_up()
    capsys.readouterr()
    missing = uuid.uuid4()
    response = api.client.get(f"/api/v1/projects/{missing}", headers=owner.headers)
    assert response.status_code == 404
    documents = _documents(capsys)
    (latency,) = _latency(documents)
    (requests,) = _requests(documents)
    assert latency["route"] == "GET /api/v1/projects/{project_id}"
    assert str(missing) not in json.dumps(documents)
    assert latency["Errors"] == [0.0]
    assert latency["Latency"][0] > 0
    assert (requests["outcome"], requests["status"], requests["plan"]) == ("client_error", 404, TRIAL_PLAN)
    for document in documents:
        assert document["tenant_id"] == str(owner.tenant_id)
        assert document["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/api/v1/no-such-thing", 404), ("DELETE", "/api/v1/health", 405)]
)
def test_paths_no_route_serves_are_one_unmatched_value(api, capsys, method, path, status):
    assert api.client.request(method, path).status_code == status
    (latency,) = _latency(_documents(capsys))
    assert latency["route"] == "unmatched"


def test_anonymous_requests_count_under_the_anonymous_plan(api, capsys):
    assert api.client.get("/api/v1/health").status_code == 200
    documents = _documents(capsys)
    (requests,) = _requests(documents)
    assert (requests["plan"], requests["outcome"]) == ("anonymous", "ok")
    assert all("tenant_id" not in d for d in documents)


def test_an_unhandled_exception_counts_as_a_5xx_on_its_route(api, capsys, monkeypatch):
    from api.services import projects

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    from fastapi.testclient import TestClient

    from api.main import app

    owner = api.sign_up()
    monkeypatch.setattr(projects, "list_projects", explode)
    capsys.readouterr()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/projects", headers=owner.headers).status_code == 500
    documents = _documents(capsys)
    (latency,) = _latency(documents)
    assert (latency["route"], latency["Errors"]) == ("GET /api/v1/projects", [1.0])
    assert _requests(documents)[0]["outcome"] == "server_error"


def test_without_per_route_the_route_is_a_property_not_a_dimension(api, capsys, monkeypatch):
    from api.settings import get_settings

    monkeypatch.setenv("METRICS_PER_ROUTE", "false")
    get_settings.cache_clear()
    assert api.client.get("/api/v1/health").status_code == 200
    (latency,) = _latency(_documents(capsys))
    assert latency["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert latency["route"] == "GET /api/v1/health"


def test_usage_reports_its_share_of_the_plan_limit_and_refusals(api, capsys):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "free")  # hard limit 1,000
    first = api.client.post(
        "/api/v1/usage",
        json={"meter": "api_calls", "quantity": 600, "idempotency_key": "a"},
        headers=owner.headers,
    )
    assert first.status_code == 201, first.text
    refused = api.client.post(
        "/api/v1/usage",
        json={"meter": "api_calls", "quantity": 600, "idempotency_key": "b"},
        headers=owner.headers,
    )
    assert refused.status_code >= 400
    usage = [d for d in _documents(capsys) if "UsageLimitUsed" in d]
    assert [(d["UsageLimitUsed"], d.get("UsageRefused")) for d in usage] == [([60.0], None), ([60.0], [1.0])]
    assert {d["plan"] for d in usage} == {"free"}
    assert {d["tenant_id"] for d in usage} == {str(owner.tenant_id)}
