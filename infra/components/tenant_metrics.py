"""The per-tenant view of an environment: a dashboard of the `saascore.metrics` series (requests by plan and
outcome, latency percentiles and errors per route or per service, webhook and job outcomes, usage against
plan limits, yesterday's sign-ups and conversions) and saved Logs Insights queries for "one tenant, last hour" over the EMF lines, where the
tenant is a property rather than a dimension (decision 0090)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components.service_function import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
PERCENTILES = ("p50", "p95", "p99")
OUTCOME = "${PROP('Dim.outcome')}"  # dynamic labels: one line per dimension value SEARCH finds
PLAN_OUTCOME = "${PROP('Dim.plan')} ${PROP('Dim.outcome')}"
TENANT_PLACEHOLDER = "TENANT_ID"  # the saved queries name no tenant: replace it before running one

# Logs Insights flattens the EMF value arrays: `"Latency": [12.3]` is the field `Latency.0`.
TENANT_QUERIES: dict[str, str] = {
    "requests": (
        f'filter tenant_id = "{TENANT_PLACEHOLDER}" and ispresent(Requests.0)\n'
        "| stats count(*) as requests by outcome, bin(5m) as minute\n"
        "| sort minute asc"
    ),
    "errors": (
        "fields @timestamp, route, status, request_id\n"
        f'| filter tenant_id = "{TENANT_PLACEHOLDER}" and ispresent(Requests.0) and status >= 400\n'
        "| sort @timestamp desc\n"
        "| limit 200"
    ),
    "slowest-routes": (
        f'filter tenant_id = "{TENANT_PLACEHOLDER}" and ispresent(Latency.0)\n'
        "| stats count(*) as requests, sum(Errors.0) as errors, pct(Latency.0, 50) as p50_ms,"
        " pct(Latency.0, 95) as p95_ms, pct(Latency.0, 99) as p99_ms, max(Latency.0) as max_ms by route\n"
        "| sort p99_ms desc\n"
        "| limit 20"
    ),
}
# Every tenant's API requests over the period picked in the console: export it as CSV for
# `saas cost --by-tenant --requests` (docs/cost.md).
REQUESTS_BY_TENANT_QUERY = (
    "filter ispresent(Requests.0) and ispresent(tenant_id)\n"
    "| stats count(*) as requests by tenant_id\n"
    "| sort requests desc"
)
TOP_TENANTS_QUERY = (
    "filter ispresent(Latency.0) and ispresent(tenant_id)\n"
    "| stats count(*) as requests, sum(Errors.0) as errors, pct(Latency.0, 99) as p99_ms by tenant_id\n"
    "| sort requests desc\n"
    "| limit 10"
)


def _search(dimensions: str, metric_name: str, statistic: str, label: str) -> cloudwatch.MathExpression:
    """Every series of one metric name under one dimension set, whatever values exist (no route list)."""
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{METRICS_NAMESPACE},{dimensions}}} MetricName=\"{metric_name}\"', "
            f"'{statistic}', {int(PERIOD.to_seconds())})"
        ),
        label=label,
        period=PERIOD,
        using_metrics={},
    )


def _metric(metric_name: str, service: str, statistic: str, label: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=PERIOD,
        label=label,
    )


class TenantMetrics(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        api_log_group: logs.ILogGroup,
        log_groups: Sequence[logs.ILogGroup],
        per_route: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queries = [
            logs.CfnQueryDefinition(
                self,
                f"Query-{key}",
                name=f"{name}/one-tenant-last-hour/{key}",
                query_string=query,
                log_group_names=[group.log_group_name for group in log_groups],
            )
            for key, query in TENANT_QUERIES.items()
        ]
        self.queries.append(
            logs.CfnQueryDefinition(
                self,
                "Query-requests-by-tenant",
                name=f"{name}/requests-by-tenant",
                query_string=REQUESTS_BY_TENANT_QUERY,
                log_group_names=[api_log_group.log_group_name],
            )
        )
        if per_route:
            latency: list[cloudwatch.IMetric] = [
                _search("route,service", "Latency", p, f"{p} ${{PROP('Dim.route')}}") for p in PERCENTILES
            ]
            errors: list[cloudwatch.IMetric] = [
                _search("route,service", "Errors", "Sum", "${PROP('Dim.route')}")
            ]
        else:
            latency = [_metric("Latency", "api", p, p) for p in PERCENTILES]
            errors = [_metric("Errors", "api", "Sum", "5xx")]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{name}-tenants")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests by plan and outcome",
                left=[_search("outcome,plan,service", "Requests", "Sum", PLAN_OUTCOME)],
                stacked=True,
            ),
            cloudwatch.GraphWidget(title="API latency (ms)", left=latency),
            cloudwatch.GraphWidget(title="API 5xx", left=errors),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stripe events by outcome",
                left=[_search("outcome,service", "WebhookEvents", "Sum", OUTCOME)],
                stacked=True,
            ),
            cloudwatch.GraphWidget(
                title="Jobs by outcome",
                left=[_search("outcome,service", "Jobs", "Sum", OUTCOME)],
                stacked=True,
            ),
            cloudwatch.GraphWidget(
                title="Usage against plan limits",
                left=[
                    _search(
                        "plan,service", "UsageLimitUsed", "Maximum", "% of hard limit ${PROP('Dim.plan')}"
                    )
                ],
                right=[_search("plan,service", "UsageRefused", "Sum", "refused ${PROP('Dim.plan')}")],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Yesterday's sign-ups and trial -> paid (UTC, from the business views)",
                left=[
                    _metric("Signups", "jobs", "Maximum", "sign-ups"),
                    _metric("TrialConversions", "jobs", "Maximum", "trial -> paid"),
                ],
                width=8,
            ),
            cloudwatch.LogQueryWidget(
                title="Top tenants by requests (errors = 5xx)",
                log_group_names=[api_log_group.log_group_name],
                query_string=TOP_TENANTS_QUERY,
                width=16,
            ),
        )
