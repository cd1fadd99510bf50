"""Per-tenant metrics as CloudWatch embedded metric format (EMF) documents written by Powertools.

Every dimension comes from a bounded set (service, route template, plan, outcome), so the number of custom
metrics is known in advance and priced by `saas cost` (``series_count``); the tenant, the user and other
unbounded values are EMF *properties*: stored in the log line, where Logs Insights can filter and group by
them, but never a metric of their own (decision 0090). Each call writes one EMF document to stdout at once,
so a failing request still reports, and one document never mixes two dimension sets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from saascore.billing.plans import PLANS
from saascore.observability import METRICS_NAMESPACE

ANONYMOUS_PLAN: Final = "anonymous"  # requests without a verified session (sign-up, health, JWKS)
UNMATCHED_ROUTE: Final = "unmatched"  # 404s and 405s: the client's path is never a dimension value
OTHER: Final = "other"  # an outcome the code did not declare lands here rather than widen a dimension

PLAN_VALUES: Final = (*PLANS, ANONYMOUS_PLAN, OTHER)
REQUEST_OUTCOMES: Final = ("ok", "client_error", "server_error")
WEBHOOK_OUTCOMES: Final = (
    "applied",
    "stale",
    "ignored",
    "conflict",
    "duplicate",
    "parked",
    "unroutable",
    "error",
    OTHER,
)
JOB_OUTCOMES: Final = ("succeeded", "failed", "skipped", "retried", "dead", OTHER)


ROUTE: Final = "route"  # the one dimension whose values the API's route table decides
LIMITED_PLANS: Final = tuple(key for key, plan in PLANS.items() if plan.entitlements.usage_hard_limit)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric name and the value set of each dimension besides ``service`` (one per metric)."""

    name: str
    service: str
    dimensions: Mapping[str, tuple[str, ...] | None]  # None: the route templates

    def series(self, *, route_values: int) -> int:
        count = 1
        for values in self.dimensions.values():
            count *= route_values if values is None else len(values)
        return count


CATALOG: Final = (
    # Latency's SampleCount is the request count: no per-route Requests metric is needed.
    MetricSpec("Latency", "api", {ROUTE: None}),
    MetricSpec("Errors", "api", {ROUTE: None}),  # 1 for a 5xx, else 0: Sum = errors, Average = error rate
    MetricSpec("Requests", "api", {"plan": PLAN_VALUES, "outcome": REQUEST_OUTCOMES}),
    MetricSpec("UsageLimitUsed", "api", {"plan": LIMITED_PLANS}),  # percent of the monthly hard limit
    MetricSpec("UsageRefused", "api", {"plan": LIMITED_PLANS}),
    MetricSpec("WebhookEvents", "webhooks-processor", {"outcome": WEBHOOK_OUTCOMES}),
    MetricSpec("Jobs", "jobs", {"outcome": JOB_OUTCOMES}),
    # The last complete UTC day's totals from the business views, for the floor alarms (every refresh).
    MetricSpec("Signups", "jobs", {}),
    MetricSpec("TrialConversions", "jobs", {}),
)


def series_count(*, route_templates: int, per_route: bool) -> int:
    """Custom metrics (distinct name + dimension values) the catalog can publish. Without ``per_route``
    latency and errors are one series each; with it, one per route template plus ``unmatched``."""
    route_values = route_templates + 1 if per_route else 1
    return sum(spec.series(route_values=route_values) for spec in CATALOG)


def plan_value(plan: str | None) -> str:
    if plan is None:
        return ANONYMOUS_PLAN
    return plan if plan in PLANS else OTHER if plan else ANONYMOUS_PLAN


def request_outcome(status: int) -> str:
    if status >= 500:
        return "server_error"
    return "client_error" if status >= 400 else "ok"


def _bounded(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else OTHER


# Called with (service, dimensions, values, properties) of every document written: the local stack counts
# requests per tenant for its status page this way (production registers none).
Observer = Callable[[str, Mapping[str, str], Mapping[str, float], Mapping[str, Any]], None]
OBSERVERS: list[Observer] = []


def _emit(
    service: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, tuple[MetricUnit, float]],
    properties: Mapping[str, Any],
) -> None:
    metrics = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=service)
    for name, value in dimensions.items():
        metrics.add_dimension(name=name, value=value)
    for name, (unit, amount) in values.items():
        metrics.add_metric(name=name, unit=unit, value=amount)
    for key, item in properties.items():
        if item is not None and key not in dimensions:
            metrics.add_metadata(key=key, value=str(item) if isinstance(item, UUID) else item)
    metrics.flush_metrics()
    for observer in OBSERVERS:
        observer(service, dimensions, {name: amount for name, (_, amount) in values.items()}, properties)


def record_request(
    *,
    route: str | None,
    method: str,
    per_route: bool,
    status: int,
    latency_ms: float,
    tenant_id: UUID | None,
    plan: str | None,
    request_id: str | None,
) -> None:
    """One API request: latency and fault (per route template when ``per_route``), and the count per plan
    and outcome. The route is a property in every case, so Logs Insights can break any of them down."""
    route_value = f"{method} {route}" if route else UNMATCHED_ROUTE
    properties = {"tenant_id": tenant_id, "request_id": request_id, "status": status, "route": route_value}
    _emit(
        "api",
        {ROUTE: route_value} if per_route else {},
        {
            "Latency": (MetricUnit.Milliseconds, round(latency_ms, 3)),
            "Errors": (MetricUnit.Count, 1.0 if status >= 500 else 0.0),
        },
        properties,
    )
    _emit(
        "api",
        {"plan": plan_value(plan), "outcome": request_outcome(status)},
        {"Requests": (MetricUnit.Count, 1.0)},
        properties,
    )


def record_usage_against_limit(
    *, plan: str, used: int, hard_limit: int | None, refused: bool, tenant_id: UUID, meter: str
) -> None:
    """Usage against the plan's monthly hard limit; a plan without one has nothing to report."""
    values: dict[str, tuple[MetricUnit, float]] = {}
    if hard_limit:
        values["UsageLimitUsed"] = (MetricUnit.Percent, round(100.0 * used / hard_limit, 2))
    if refused:
        values["UsageRefused"] = (MetricUnit.Count, 1.0)
    if values:
        properties = {"tenant_id": tenant_id, "meter": meter, "used": used, "hard_limit": hard_limit}
        _emit("api", {"plan": plan_value(plan)}, values, properties)


def record_webhook(*, outcome: str, tenant_id: UUID | None, event_type: str | None, event_id: str) -> None:
    _emit(
        "webhooks-processor",
        {"outcome": _bounded(outcome, WEBHOOK_OUTCOMES)},
        {"WebhookEvents": (MetricUnit.Count, 1.0)},
        {"tenant_id": tenant_id, "event_type": event_type, "event_id": event_id},
    )


def record_job(*, outcome: str, tenant_id: UUID | None, job_type: str, job_id: UUID | None) -> None:
    _emit(
        "jobs",
        {"outcome": _bounded(outcome, JOB_OUTCOMES)},
        {"Jobs": (MetricUnit.Count, 1.0)},
        {"tenant_id": tenant_id, "job_type": job_type, "job_id": job_id},
    )


def record_business_day(*, signups: int, trial_conversions: int) -> None:
    """Yesterday's (UTC) sign-ups and first payments, as gauges the floor alarms read."""
    _emit(
        "jobs",
        {},
        {
            "Signups": (MetricUnit.Count, float(signups)),
            "TrialConversions": (MetricUnit.Count, float(trial_conversions)),
        },
        {},
    )
