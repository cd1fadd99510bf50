"""The per-tenant dashboard and the saved "one tenant, last hour" Logs Insights queries: present in every
environment, reading the series `saascore.metrics` publishes, with latency per route only where the config
asks for it (prod), and the API function told the same."""

from __future__ import annotations

import json
import re
from typing import Any

from infra.components.tenant_metrics import TENANT_PLACEHOLDER
from saascore.metrics import CATALOG
from tests.infra.conftest import Assembly


def _dashboard_body(assembly: Assembly) -> dict[str, Any]:
    (dashboard,) = [
        resource["Properties"]
        for resource in assembly.resources("service", "AWS::CloudWatch::Dashboard").values()
        if json.dumps(resource["Properties"]["DashboardName"]).endswith('-tenants"')
    ]
    body = dashboard["DashboardBody"]
    text = (
        body
        if isinstance(body, str)
        else "".join(part if isinstance(part, str) else "LOGGROUP" for part in body["Fn::Join"][1])
    )
    return dict(json.loads(text))


def _expressions(body: dict[str, Any]) -> list[str]:
    return [
        entry["expression"]
        for widget in body["widgets"]
        for row in widget["properties"].get("metrics", [])
        for entry in row
        if isinstance(entry, dict) and "expression" in entry
    ]


def _api_environment(assembly: Assembly) -> dict[str, Any]:
    (api,) = [
        r["Properties"]
        for r in assembly.resources("service", "AWS::Lambda::Function").values()
        if r["Properties"].get("Handler") == "api.main.handler"
    ]
    return dict(api["Environment"]["Variables"])


def _graphed_metric_names(body: dict[str, Any]) -> set[str]:
    searched = {m for e in _expressions(body) for m in re.findall(r'MetricName=\\?"(\w+)', e)}
    plain = {
        row[1]
        for widget in body["widgets"]
        for row in widget["properties"].get("metrics", [])
        if isinstance(row, list) and row and row[0] == "SaasPlatform"
    }
    return searched | plain


def test_the_dashboard_graphs_every_catalog_metric(assembly: Assembly, prod_assembly: Assembly) -> None:
    for environment in (assembly, prod_assembly):
        body = _dashboard_body(environment)
        assert _graphed_metric_names(body) == {spec.name for spec in CATALOG}
        expressions = _expressions(body)
        assert all(e.startswith("SEARCH('{SaasPlatform,") for e in expressions)
        assert not any("tenant_id" in e for e in expressions)  # never a dimension


def test_dev_publishes_latency_per_service_and_prod_per_route(
    assembly: Assembly, prod_assembly: Assembly
) -> None:
    assert _api_environment(assembly)["METRICS_PER_ROUTE"] == "false"
    assert _api_environment(prod_assembly)["METRICS_PER_ROUTE"] == "true"
    dev = json.dumps(_dashboard_body(assembly))
    prod = _expressions(_dashboard_body(prod_assembly))
    assert all(f'"stat": "{p}"' in dev.replace('"stat":"', '"stat": "') for p in ("p50", "p95", "p99"))
    for statistic in ("p50", "p95", "p99"):
        assert any("{SaasPlatform,route,service}" in e and f"'{statistic}'" in e for e in prod)


def test_one_tenant_last_hour_queries_cover_requests_errors_and_slowest_routes(assembly: Assembly) -> None:
    queries = {
        json.dumps(q["Properties"]["Name"]).rsplit("/", 1)[-1].strip('"'): q["Properties"]
        for q in assembly.resources("service", "AWS::Logs::QueryDefinition").values()
    }
    assert set(queries) == {"requests", "errors", "slowest-routes", "requests-by-tenant"}
    by_tenant = queries.pop("requests-by-tenant")
    assert "stats count(*) as requests by tenant_id" in by_tenant["QueryString"]  # saas cost --by-tenant
    for query in queries.values():
        assert f'tenant_id = "{TENANT_PLACEHOLDER}"' in query["QueryString"]
        assert len(query["LogGroupNames"]) == 3  # api, webhooks processor, jobs worker
    assert "pct(Latency.0, 99)" in queries["slowest-routes"]["QueryString"]
    assert "status >= 400" in queries["errors"]["QueryString"]
