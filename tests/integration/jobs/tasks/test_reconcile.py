from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from jobs.context import JobContext
from jobs.settings import get_settings
from jobs.tasks.reconcile import reconcile_subscriptions
from saascore.billing.settings import get_billing_settings
from saascore.billing.stripe_api import get_stripe_client
from tests.support.stripe_stub import stripe_stub

__all__ = ["stripe_stub"]


@pytest.fixture
def stripe_api(stripe_stub):
    get_billing_settings.cache_clear()
    get_stripe_client.cache_clear()
    yield stripe_stub
    get_billing_settings.cache_clear()
    get_stripe_client.cache_clear()


def context(database):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="reconcile_subscriptions",
        tenant_id=None,
        payload={},
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def local_subscription(owner_sql, tenant, sub, *, status, lookup_key, plan):
    period_end = datetime.fromtimestamp(sub["items"]["data"][0]["current_period_end"], UTC)
    owner_sql(
        tenant,
        "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan,"
        " price_lookup_key, current_period_end, stripe_created, last_event_created, last_event_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, now(), now() - interval '1 hour', 'evt_old')",
        (tenant, sub["id"], sub["customer"], status, plan, lookup_key, period_end),
    )


def billed_tenant(make_tenant, owner_sql, stripe_api, *, plan="starter"):
    customer = stripe_api.add_customer()["id"]
    tenant = make_tenant(plan=plan, billing_status="active")
    owner_sql(
        tenant,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
        (tenant, customer),
    )
    return tenant, customer


def test_reconciliation_fixes_an_injected_drift_and_audits_it(
    app_database, stripe_api, make_tenant, owner_sql
):
    drifted, customer = billed_tenant(make_tenant, owner_sql, stripe_api)
    sub = stripe_api.add_subscription(customer=customer, lookup_key="pro_monthly", status="active")
    # the webhook that upgraded the tenant to Pro was lost: locally it is still on Starter
    local_subscription(owner_sql, drifted, sub, status="active", lookup_key="starter_monthly", plan="starter")

    in_sync, customer2 = billed_tenant(make_tenant, owner_sql, stripe_api)
    sub2 = stripe_api.add_subscription(customer=customer2, lookup_key="starter_monthly")
    local_subscription(
        owner_sql, in_sync, sub2, status="active", lookup_key="starter_monthly", plan="starter"
    )

    missing, customer3 = billed_tenant(make_tenant, owner_sql, stripe_api, plan="free")
    sub3 = stripe_api.add_subscription(customer=customer3, lookup_key="starter_monthly", status="past_due")

    stripe_api.add_subscription(customer=stripe_api.add_customer()["id"])  # a customer of no tenant here

    result = reconcile_subscriptions(context(app_database))

    assert result["checked"] == 4
    assert sorted(result["fixed"]) == sorted([sub["id"], sub3["id"]])
    assert result["unknown_customers"] == 1

    [row] = owner_sql(drifted, "SELECT plan, price_lookup_key, last_event_id FROM subscriptions")
    assert (row["plan"], row["price_lookup_key"]) == ("pro", "pro_monthly")
    assert row["last_event_id"].startswith("reconcile:")
    # (the owner's directory policy shows every tenant, hence the id filters)
    assert owner_sql(drifted, "SELECT plan FROM tenants WHERE id = %s", (drifted,)) == [{"plan": "pro"}]
    audits = owner_sql(
        drifted,
        "SELECT actor_type, action, resource_type, before, after FROM audit_logs ORDER BY resource_type",
    )
    assert [(a["actor_type"], a["action"], a["resource_type"]) for a in audits] == [
        ("system", "billing.reconciled", "subscription"),
        ("system", "billing.reconciled", "tenant"),
    ]
    assert (audits[0]["before"]["price_lookup_key"], audits[0]["after"]["price_lookup_key"]) == (
        "starter_monthly",
        "pro_monthly",
    )
    assert (audits[1]["before"]["plan"], audits[1]["after"]["plan"]) == ("starter", "pro")

    assert owner_sql(in_sync, "SELECT count(*) AS n FROM audit_logs") == [{"n": 0}]
    assert owner_sql(missing, "SELECT status FROM subscriptions") == [{"status": "past_due"}]
    assert owner_sql(missing, "SELECT plan, access_level FROM tenants WHERE id = %s", (missing,)) == [
        {"plan": "starter", "access_level": "grace"}
    ]

    assert reconcile_subscriptions(context(app_database))["fixed"] == []  # converged
