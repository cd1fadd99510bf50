"""Per-tenant metrics: bounded dimensions, the tenant as an EMF property, the series count the cost model
prices, and the route table staying under the bound `saas cost` assumes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from saascore import metrics
from saascore.observability import METRICS_NAMESPACE

WORKLOAD = Path(__file__).parents[3] / "saas_cli" / "prices" / "workload.json"
TENANT = uuid.UUID("6f1c2c55-0d7e-4c1b-9a53-2f7f8e0a9b11")


def _documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def _directive(document: dict[str, Any]) -> dict[str, Any]:
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRICS_NAMESPACE
    return {**directive, "Dimensions": [sorted(dims) for dims in directive["Dimensions"]]}


def test_a_request_is_two_documents_with_the_tenant_as_a_property_never_a_dimension(capsys):
    metrics.record_request(
        route="/api/v1/projects/{project_id}",
        method="GET",
        per_route=True,
        status=503,
        latency_ms=12.3456,
        tenant_id=TENANT,
        plan="starter",
        request_id="req-1",
    )
    per_route, per_plan = _documents(capsys)
    assert _directive(per_route)["Dimensions"] == [["route", "service"]]
    assert per_route["route"] == "GET /api/v1/projects/{project_id}"
    assert (per_route["Latency"], per_route["Errors"]) == ([12.346], [1.0])  # Logs Insights: Latency.0
    assert _directive(per_plan)["Dimensions"] == [["outcome", "plan", "service"]]
    assert (per_plan["plan"], per_plan["outcome"], per_plan["Requests"]) == ("starter", "server_error", [1.0])
    for document in (per_route, per_plan):
        assert document["tenant_id"] == str(TENANT)
        assert document["request_id"] == "req-1"
        assert all("tenant_id" not in dims for dims in _directive(document)["Dimensions"])


def test_without_per_route_latency_is_per_service_and_the_route_stays_a_property(capsys):
    metrics.record_request(
        route="/api/v1/projects",
        method="POST",
        per_route=False,
        status=201,
        latency_ms=5,
        tenant_id=None,
        plan=None,
        request_id=None,
    )
    per_service, per_plan = _documents(capsys)
    assert _directive(per_service)["Dimensions"] == [["service"]]
    assert per_service["route"] == "POST /api/v1/projects"
    assert per_service["Errors"] == [0.0]
    assert (per_plan["plan"], per_plan["outcome"]) == ("anonymous", "ok")
    assert "tenant_id" not in per_plan


@pytest.mark.parametrize(
    ("plan", "expected"), [("pro", "pro"), (None, "anonymous"), ("", "anonymous"), ("gold", "other")]
)
def test_plan_values_stay_in_the_declared_set(plan, expected):
    assert metrics.plan_value(plan) == expected
    assert expected in metrics.PLAN_VALUES


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "ok"), (304, "ok"), (404, "client_error"), (500, "server_error")]
)
def test_request_outcome(status, outcome):
    assert metrics.request_outcome(status) == outcome


def test_an_undeclared_outcome_is_counted_as_other_not_as_a_new_series(capsys):
    metrics.record_job(outcome="exploded", tenant_id=TENANT, job_type="report", job_id=None)
    metrics.record_webhook(outcome="applied", tenant_id=None, event_type="invoice.paid", event_id="evt_1")
    job, webhook = _documents(capsys)
    assert (job["outcome"], job["job_type"], job["tenant_id"]) == ("other", "report", str(TENANT))
    assert (webhook["outcome"], webhook["event_type"]) == ("applied", "invoice.paid")
    assert "tenant_id" not in webhook


def test_usage_reports_the_share_of_the_hard_limit_and_refusals(capsys):
    metrics.record_usage_against_limit(
        plan="free", used=250, hard_limit=1000, refused=True, tenant_id=TENANT, meter="api_calls"
    )
    metrics.record_usage_against_limit(
        plan="pro", used=5, hard_limit=None, refused=False, tenant_id=TENANT, meter="api_calls"
    )
    (document,) = _documents(capsys)
    assert (document["UsageLimitUsed"], document["UsageRefused"], document["plan"]) == ([25.0], [1.0], "free")
    assert document["meter"] == "api_calls"


def test_series_count_is_the_product_of_the_declared_value_sets():
    plans, limited = len(metrics.PLAN_VALUES), len(metrics.LIMITED_PLANS)
    business = 2  # Signups, TrialConversions: no dimension besides service
    fixed = plans * 3 + 2 * limited + len(metrics.WEBHOOK_OUTCOMES) + len(metrics.JOB_OUTCOMES) + business
    assert metrics.series_count(route_templates=40, per_route=False) == 2 + fixed
    assert metrics.series_count(route_templates=40, per_route=True) == 2 * 41 + fixed
    assert (plans, limited, fixed) == (5, 2, 36)


def _live_route_templates() -> set[str]:
    from api.main import app, routes

    routes.load_all()
    templates: set[str] = set()
    for operation_path, operations in app.openapi()["paths"].items():
        templates |= {f"{method.upper()} {operation_path}" for method in operations}
    for route in app.router.routes:  # the docs pages: Starlette routes outside the OpenAPI document
        methods = getattr(route, "methods", None) or ()
        templates |= {f"{method} {route.path_format}" for method in methods}  # type: ignore[attr-defined]
    return templates


def test_the_cost_model_bound_covers_every_route_template_the_api_serves():
    bound = json.loads(WORKLOAD.read_text())["figures"]["api_route_templates"]["value"]
    live = _live_route_templates()
    assert "GET /api/v1/projects/{project_id}" in live
    assert len(live) <= bound, f"{len(live)} route templates: raise api_route_templates in {WORKLOAD}"


def test_the_business_day_is_two_gauges_without_a_tenant(capsys):
    metrics.record_business_day(signups=4, trial_conversions=1)
    (document,) = _documents(capsys)
    assert _directive(document)["Dimensions"] == [["service"]]
    assert (document["Signups"], document["TrialConversions"], document["service"]) == ([4.0], [1.0], "jobs")
