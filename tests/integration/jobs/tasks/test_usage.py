from __future__ import annotations

import uuid

import pytest
import stripe

from jobs.context import JobContext
from jobs.settings import get_settings
from jobs.tasks.usage import report_usage
from saascore.billing.settings import get_billing_settings
from saascore.billing.stripe_api import get_stripe_client
from tests.support.stripe_stub import stripe_stub

__all__ = ["stripe_stub"]

METER_EVENTS = "/v1/billing/meter_events"


@pytest.fixture
def stripe_client(stripe_stub, monkeypatch):
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")  # failures reach the job, as after retries
    get_billing_settings.cache_clear()
    get_stripe_client.cache_clear()
    yield stripe_stub
    get_billing_settings.cache_clear()
    get_stripe_client.cache_clear()


def context(tenant, database):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="report_usage",
        tenant_id=tenant,
        payload={},
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def with_customer(owner_sql, tenant, customer):
    owner_sql(
        tenant,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
        (tenant, customer),
    )


def add_usage(owner_sql, tenant, meter, quantities):
    for quantity in quantities:
        owner_sql(
            tenant,
            "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key) VALUES (%s, %s, %s, %s)",
            (tenant, meter, quantity, uuid.uuid4().hex),
        )


def stripe_totals(stub):
    totals: dict[tuple[str, str], int] = {}
    for event in stub.meter_events.values():
        key = (event["payload"]["stripe_customer_id"], event["event_name"])
        totals[key] = totals.get(key, 0) + int(event["payload"]["value"])
    return totals


def test_usage_is_aggregated_per_meter_and_tenant_and_marked_reported(
    app_database, stripe_client, make_tenant, owner_sql
):
    alpha, beta = make_tenant(), make_tenant()
    with_customer(owner_sql, alpha, "cus_alpha")
    with_customer(owner_sql, beta, "cus_beta")
    add_usage(owner_sql, alpha, "api_calls", [1, 2, 3])
    add_usage(owner_sql, alpha, "storage_gb", [10])
    add_usage(owner_sql, beta, "api_calls", [7])

    result = report_usage(context(alpha, app_database))

    assert result["batches"] == 2
    assert stripe_totals(stripe_client) == {("cus_alpha", "api_calls"): 6, ("cus_alpha", "storage_gb"): 10}
    assert all(e["identifier"] for e in stripe_client.meter_events.values())
    # (the owner's directory policy shows every tenant's events, hence the explicit tenant filter)
    unreported = "SELECT count(*) AS n FROM usage_events WHERE tenant_id = %s AND reported_at IS NULL"
    assert owner_sql(alpha, unreported, (alpha,)) == [{"n": 0}]
    assert owner_sql(beta, unreported, (beta,)) == [{"n": 1}]

    assert report_usage(context(alpha, app_database))["batches"] == 0  # nothing new: nothing sent
    assert len(stripe_client.requests_to("POST", METER_EVENTS)) == 2


def test_a_failed_send_is_retried_without_double_counting(
    app_database, stripe_client, make_tenant, owner_sql
):
    tenant = make_tenant()
    with_customer(owner_sql, tenant, "cus_retry")
    add_usage(owner_sql, tenant, "api_calls", [4, 5])
    add_usage(owner_sql, tenant, "exports", [1])
    stripe_client.fail_next(METER_EVENTS, 500)

    with pytest.raises(stripe.APIError):
        report_usage(context(tenant, app_database))
    add_usage(owner_sql, tenant, "api_calls", [100])  # arrives between attempts: a new batch
    report_usage(context(tenant, app_database))

    assert stripe_totals(stripe_client) == {("cus_retry", "api_calls"): 109, ("cus_retry", "exports"): 1}
    assert owner_sql(tenant, "SELECT count(*) AS n FROM usage_report_batches WHERE status = 'pending'") == [
        {"n": 0}
    ]


def test_a_send_whose_outcome_was_lost_is_resent_with_the_same_identifier(
    app_database, stripe_client, make_tenant, owner_sql
):
    tenant = make_tenant()
    with_customer(owner_sql, tenant, "cus_lost")
    add_usage(owner_sql, tenant, "api_calls", [3, 3])
    report_usage(context(tenant, app_database))
    # The worker died after Stripe accepted the event but before the batch was marked reported.
    owner_sql(tenant, "UPDATE usage_report_batches SET status = 'pending', reported_at = NULL")

    report_usage(context(tenant, app_database))

    sent = stripe_client.requests_to("POST", METER_EVENTS)
    assert len(sent) == 2
    assert sent[0].params["identifier"] == sent[1].params["identifier"]
    assert stripe_totals(stripe_client) == {("cus_lost", "api_calls"): 6}


def test_a_tenant_without_a_stripe_customer_reports_nothing(
    app_database, stripe_client, make_tenant, owner_sql
):
    tenant = make_tenant()
    add_usage(owner_sql, tenant, "api_calls", [1])
    assert report_usage(context(tenant, app_database))["batches"] == 0
    assert stripe_client.requests_to("POST", METER_EVENTS) == []
    assert owner_sql(
        tenant, "SELECT count(*) AS n FROM usage_events WHERE tenant_id = %s AND batch_id IS NULL", (tenant,)
    ) == [{"n": 1}]


def test_batches_are_capped_in_size(app_database, stripe_client, make_tenant, owner_sql, monkeypatch):
    monkeypatch.setenv("USAGE_BATCH_EVENTS", "2")
    get_settings.cache_clear()
    tenant = make_tenant()
    with_customer(owner_sql, tenant, "cus_cap")
    add_usage(owner_sql, tenant, "api_calls", [1, 1, 1])
    report_usage(context(tenant, app_database))
    report_usage(context(tenant, app_database))
    get_settings.cache_clear()
    counts = owner_sql(
        tenant, "SELECT event_count FROM usage_report_batches ORDER BY created_at, event_count DESC"
    )
    assert [c["event_count"] for c in counts] == [2, 1]
    assert stripe_totals(stripe_client) == {("cus_cap", "api_calls"): 3}
