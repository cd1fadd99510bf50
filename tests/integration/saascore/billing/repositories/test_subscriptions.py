"""The one subscriptions upsert (processor and reconciliation) on real PostgreSQL, under forced RLS."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from saas_cli import stripe_samples as samples
from saascore.billing.events import SubscriptionSnapshot
from saascore.billing.repositories.subscriptions import upsert_subscription
from saascore.db.tenancy import tenant_transaction
from tests.integration.webhooks.conftest import create_tenant, fetch_all

T0 = int(time.time()) - 3600


def test_insert_then_update_keeps_one_row_whose_plan_follows_the_price(app_database) -> None:
    tenant = create_tenant(app_database)
    first = SubscriptionSnapshot.parse(
        samples.subscription(customer=tenant.customer, subscription_id="sub_u", status="trialing", created=T0)
    )
    second = SubscriptionSnapshot.parse(
        samples.subscription(
            customer=tenant.customer, subscription_id="sub_u", lookup_key="pro_monthly", created=T0
        )
    )
    applied = datetime.fromtimestamp(T0 + 60, tz=UTC)
    with tenant_transaction(tenant.id, database=app_database) as conn:
        upsert_subscription(conn, tenant_id=tenant.id, snapshot=first, applied_at=applied, applied_by="evt_1")
    with tenant_transaction(tenant.id, database=app_database) as conn:
        upsert_subscription(
            conn, tenant_id=tenant.id, snapshot=second, applied_at=applied, applied_by="reconcile:job-1"
        )
    rows = fetch_all(
        app_database,
        tenant.id,
        "SELECT status, plan, price_lookup_key, current_period_end, last_event_created, last_event_id"
        " FROM subscriptions",
    )
    assert rows == [
        {
            "status": "active",
            "plan": "pro",
            "price_lookup_key": "pro_monthly",
            "current_period_end": datetime.fromtimestamp(T0 + samples.MONTH, tz=UTC),
            "last_event_created": applied,
            "last_event_id": "reconcile:job-1",
        }
    ]


def test_an_unknown_price_gives_the_free_plan(app_database) -> None:
    tenant = create_tenant(app_database)
    snapshot = SubscriptionSnapshot.parse(
        samples.subscription(customer=tenant.customer, lookup_key="legacy_gold", created=T0)
    )
    with tenant_transaction(tenant.id, database=app_database) as conn:
        upsert_subscription(
            conn, tenant_id=tenant.id, snapshot=snapshot, applied_at=datetime.now(UTC), applied_by="evt_2"
        )
    assert fetch_all(app_database, tenant.id, "SELECT plan FROM subscriptions") == [{"plan": "free"}]
