"""A hand-computed month of Stripe subscription events, applied by the real processor, gives exactly the MRR
movements worked out below once the reporting views (migration 0400) are refreshed.

November 2026, prices: starter 2,000, pro 9,900 (minor units, monthly).

| tenant | before November | in November | start | end | movement |
|---|---|---|---:|---:|---|
| A | trialing (Oct 20) | active starter (Nov 3) | 0 | 2,000 | new 2,000 |
| B | active starter (Oct 5) | pro (Nov 10) | 2,000 | 9,900 | expansion 7,900 |
| C | active pro (Oct 1) | starter (Nov 12) | 9,900 | 2,000 | contraction 7,900 |
| D | active starter (Oct 2) | canceled (Nov 20) | 2,000 | 0 | churn 2,000 |
| E | active pro x1 (Sep 15) | x3 (Nov 5), x2 (Nov 25) | 9,900 | 19,800 | expansion 9,900 |
| F | none | active starter (Nov 8), canceled (Nov 28) | 0 | 0 | none |
| G | active pro (Oct 3) | starter (Nov 15); a Nov 14 pro event arrives after it (stale) | 9,900 | 2,000 | contraction 7,900 |

Start 33,700; end 35,700 = 33,700 + 2,000 + 17,800 - 15,800 - 2,000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from saas_cli import stripe_samples as samples
from saascore.business_metrics import Month, mrr_movements
from saascore.exceptions import InvalidPeriodError
from tests.integration.webhooks.conftest import _fresh_caches, create_tenant
from webhooks.dispatch import process_event

__all__ = ["_fresh_caches"]


def _at(month: int, day: int) -> int:
    return int(datetime(2026, month, day, 12, tzinfo=UTC).timestamp())


def _subscription(
    tenant: Any, sub_id: str, status: str, lookup_key: str, quantity: int = 1
) -> dict[str, Any]:
    obj = samples.subscription(
        customer=tenant.customer,
        tenant_id=str(tenant.id),
        subscription_id=sub_id,
        status=status,
        lookup_key=lookup_key,
        created=_at(9, 1),
    )
    obj["items"]["data"][0]["quantity"] = quantity
    return obj


def _apply(event_type: str, obj: dict[str, Any], created: int) -> str:
    return process_event(samples.event(event_type, obj, created=created)).outcome


@pytest.fixture
def november(app_database):
    tenants = {name: create_tenant(app_database) for name in "ABCDEFG"}
    a, b, c, d, e, f, g = tenants.values()
    created, updated, deleted = (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    )
    steps = [
        (created, _subscription(a, "sub_a", "trialing", "starter_monthly"), _at(10, 20)),
        (updated, _subscription(a, "sub_a", "active", "starter_monthly"), _at(11, 3)),
        (created, _subscription(b, "sub_b", "active", "starter_monthly"), _at(10, 5)),
        (updated, _subscription(b, "sub_b", "active", "pro_monthly"), _at(11, 10)),
        (created, _subscription(c, "sub_c", "active", "pro_monthly"), _at(10, 1)),
        (updated, _subscription(c, "sub_c", "active", "starter_monthly"), _at(11, 12)),
        (created, _subscription(d, "sub_d", "active", "starter_monthly"), _at(10, 2)),
        (deleted, _subscription(d, "sub_d", "canceled", "starter_monthly"), _at(11, 20)),
        (created, _subscription(e, "sub_e", "active", "pro_monthly"), _at(9, 15)),
        (updated, _subscription(e, "sub_e", "active", "pro_monthly", quantity=3), _at(11, 5)),
        (updated, _subscription(e, "sub_e", "active", "pro_monthly", quantity=2), _at(11, 25)),
        (created, _subscription(f, "sub_f", "active", "starter_monthly"), _at(11, 8)),
        (deleted, _subscription(f, "sub_f", "canceled", "starter_monthly"), _at(11, 28)),
        (created, _subscription(g, "sub_g", "active", "pro_monthly"), _at(10, 3)),
        (updated, _subscription(g, "sub_g", "active", "starter_monthly"), _at(11, 15)),
    ]
    outcomes = [_apply(event_type, obj, at) for event_type, obj, at in steps]
    assert set(outcomes) == {"applied"}
    # Delivered late: older than the state already applied, so the processor records it stale.
    assert _apply(updated, _subscription(g, "sub_g", "active", "pro_monthly"), _at(11, 14)) == "stale"
    return tenants


def _owner(pg: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(pg.owner_url, autocommit=True)


def test_a_hand_computed_month_gives_exact_mrr_movements(november, pg):
    with _owner(pg) as owner:
        owner.execute("SELECT * FROM app.refresh_business_views()")
        rows = owner.execute(
            "SELECT tenant_id, start_mrr, end_mrr FROM app.mrr_monthly WHERE month = %s", (date(2026, 11, 1),)
        ).fetchall()
    by_tenant = {tenant_id: (start, end) for tenant_id, start, end in rows}
    assert {name: by_tenant[t.id] for name, t in november.items()} == {
        "A": (0, 2_000),
        "B": (2_000, 9_900),
        "C": (9_900, 2_000),
        "D": (2_000, 0),
        "E": (9_900, 19_800),
        "F": (0, 0),
        "G": (9_900, 2_000),
    }
    movements = mrr_movements(by_tenant.values())
    assert (movements.start, movements.end) == (33_700, 35_700)
    assert (movements.new, movements.expansion, movements.contraction, movements.churn) == (
        2_000,
        17_800,
        15_800,
        2_000,
    )
    assert movements.start + movements.net == movements.end
    assert movements.paying_tenants == 5


def test_first_payments_and_stripe_trials_are_counted_on_their_day(november, pg):
    with _owner(pg) as owner:
        owner.execute("SELECT * FROM app.refresh_business_views()")
        days = {
            day: (trials, payments)
            for day, trials, payments in owner.execute(
                "SELECT day, stripe_trials_started, first_payments FROM app.business_daily "
                "WHERE stripe_trials_started > 0 OR first_payments > 0"
            ).fetchall()
        }
    assert days == {
        date(2026, 9, 15): (0, 1),  # E
        date(2026, 10, 1): (0, 1),  # C
        date(2026, 10, 2): (0, 1),  # D
        date(2026, 10, 3): (0, 1),  # G
        date(2026, 10, 5): (0, 1),  # B
        date(2026, 10, 20): (1, 0),  # A's trial
        date(2026, 11, 3): (0, 1),  # A converts
        date(2026, 11, 8): (0, 1),  # F
    }


def test_the_views_are_not_readable_by_the_application_role_and_the_functions_need_an_operator(
    november, pg, app_database
):
    from saascore.db.tenancy import tenant_transaction

    with psycopg.connect(pg.app_url, autocommit=True) as app:
        for view in (
            "app.mrr_monthly",
            "app.business_daily",
            "app.active_users_daily",
            "app.platform_operators",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"SELECT * FROM {view}")
    tenant = november["A"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_transaction(tenant.id) as conn:
        conn.execute("SELECT * FROM app.ops_mrr_monthly(%s)", (date(2026, 11, 1),))
    with _owner(pg) as owner:
        owner.execute("INSERT INTO app.platform_operators (tenant_id) VALUES (%s)", (tenant.id,))
        owner.execute("SELECT * FROM app.refresh_business_views()")
    with tenant_transaction(tenant.id) as conn:
        assert conn.execute("SELECT app.is_platform_operator() AS yes").fetchone() == {"yes": True}
        rows = conn.execute("SELECT * FROM app.ops_mrr_monthly(%s)", (date(2026, 11, 1),)).fetchall()
    assert len(rows) == 7


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "2026-11-01", "november", ""])
def test_a_period_that_is_not_a_month_is_refused(text):
    with pytest.raises(InvalidPeriodError, match="YYYY-MM"):
        Month.parse(text)


def test_month_bounds():
    assert (Month.parse("2026-02").first_day, Month.parse("2026-02").last_day) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert str(Month.parse("2026-12").last_day) == "2026-12-31"
