"""`saas cost --by-tenant --month YYYY-MM`: what each tenant cost in one month, as an estimate.

Method: the month's load is the sum of every tenant's (API requests from `--requests`, a CSV of
`tenant_id,requests` exported from the `requests-by-tenant` Logs Insights query; usage events and active
users from the database). The cost model prices the environment idle and at that load. The difference,
line by line, is split by the driver of that line: Cognito MAU by each tenant's active users, job runs by
usage events, everything else by API requests. The idle cost (the platform running at all) is split by API
requests too. It is an estimate: real bills differ by free tiers, data transfer and cost the model does not
see (docs/cost.md, "Cost per tenant").
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from saas_cli.cost import CostError, Load, Model, PricedLine, price
from saascore.business_metrics import Month


@dataclass(frozen=True, slots=True)
class TenantLoad:
    tenant_id: str
    slug: str
    requests: int
    usage_events: int
    active_users: int


@dataclass(frozen=True, slots=True)
class TenantCost:
    load: TenantLoad
    variable: float
    fixed: float

    @property
    def total(self) -> float:
        return self.variable + self.fixed


def read_requests(path: Path) -> dict[str, int]:
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise CostError(f"{path}: {exc}") from exc
    counts: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        try:
            tenant, requests = str(row["tenant_id"]).strip(), int(str(row["requests"]).strip())
        except (KeyError, TypeError, ValueError) as exc:
            raise CostError(
                f"{path}:{number}: expected the columns tenant_id,requests (a whole number)"
            ) from exc
        if requests < 0:
            raise CostError(f"{path}:{number}: requests must be zero or more")
        counts[tenant] = counts.get(tenant, 0) + requests
    return counts


def read_tenant_loads(conn: Any, month: Month, requests: Mapping[str, int]) -> list[TenantLoad]:
    """Every tenant with usage, activity or requests in the month (the owner reads all tenants' rows)."""
    rows = conn.execute(
        "SELECT t.id::text, t.slug,"
        " (SELECT count(*) FROM usage_events u WHERE u.tenant_id = t.id"
        "   AND u.occurred_at >= %(start)s AND u.occurred_at < %(end)s) AS usage_events,"
        " (SELECT count(DISTINCT s.user_id) FROM sessions s WHERE s.tenant_id = t.id"
        "   AND (s.created_at >= %(start)s AND s.created_at < %(end)s"
        "        OR s.last_refreshed_at >= %(start)s AND s.last_refreshed_at < %(end)s)) AS active_users"
        " FROM tenants t ORDER BY t.slug",
        {"start": month.first_day, "end": month.last_day + timedelta(days=1)},
    ).fetchall()
    loads = [
        TenantLoad(tenant_id, slug, requests.get(tenant_id, 0), int(usage), int(users))
        for tenant_id, slug, usage, users in rows
    ]
    return [load for load in loads if load.requests or load.usage_events or load.active_users]


def _driver(line: PricedLine) -> str:
    meters = line.line.meters
    if any(meter.startswith("cognito_mau") for meter in meters):
        return "active_users"
    if line.line.item.startswith("Lambda jobs.worker"):
        return "usage_events"
    return "requests"


def attribute(model: Model, tenants: list[TenantLoad]) -> list[TenantCost]:
    totals = {
        "requests": sum(t.requests for t in tenants),
        "usage_events": sum(t.usage_events for t in tenants),
        "active_users": sum(t.active_users for t in tenants),
    }
    load = Load(
        mau=totals["active_users"], requests=float(totals["requests"]), jobs=float(totals["usage_events"])
    )
    idle = {(p.line.stack, p.line.resource, p.line.item): p.usd for p in price(model, Load())}
    variable_by_driver = dict.fromkeys(totals, 0.0)
    for priced in price(model, load):
        key = (priced.line.stack, priced.line.resource, priced.line.item)
        variable_by_driver[_driver(priced)] += priced.usd - idle.get(key, 0.0)
    fixed = sum(idle.values())

    def share(tenant: TenantLoad, driver: str) -> float:
        return getattr(tenant, driver) / totals[driver] if totals[driver] else 0.0

    return [
        TenantCost(
            tenant,
            variable=sum(amount * share(tenant, driver) for driver, amount in variable_by_driver.items()),
            fixed=fixed * share(tenant, "requests"),
        )
        for tenant in tenants
    ]


def format_costs(month: Month, costs: list[TenantCost]) -> str:
    out = [
        f"estimated cost per tenant, {month} (USD; method: docs/cost.md, 'Cost per tenant')",
        f"{'tenant':<24} {'requests':>12} {'usage':>8} {'users':>6} {'variable':>10} {'fixed':>10} {'total':>10}",
    ]
    for cost in sorted(costs, key=lambda c: -c.total):
        t = cost.load
        out.append(
            f"{t.slug:<24} {t.requests:>12,} {t.usage_events:>8,} {t.active_users:>6,} "
            f"{cost.variable:>10,.2f} {cost.fixed:>10,.2f} {cost.total:>10,.2f}"
        )
    out.append(
        f"{'total':<24} {'':>12} {'':>8} {'':>6} {sum(c.variable for c in costs):>10,.2f} "
        f"{sum(c.fixed for c in costs):>10,.2f} {sum(c.total for c in costs):>10,.2f}"
    )
    return "\n".join(out)
