"""`process_event` on real PostgreSQL: exactly-once effects, ordering, dunning, audit, replay, parking."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saas_cli import stripe_samples as samples
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction
from saascore.settings import DatabaseSettings
from tests.integration.webhooks.conftest import BillingTenant, fetch_all
from tests.support.stripe_stub import StripeStub
from webhooks import dispatch
from webhooks.dispatch import process_event, replay_event
from webhooks.repositories.events import parked_events

T0 = int(time.time()) - 3600


def sub_event(
    tenant: BillingTenant,
    event_type: str = "customer.subscription.updated",
    *,
    sub_id: str = "sub_main",
    status: str = "active",
    lookup_key: str = "starter_monthly",
    created: int = T0,
    **kwargs,
):
    obj = samples.subscription(
        customer=tenant.customer,
        tenant_id=str(tenant.id),
        subscription_id=sub_id,
        status=status,
        lookup_key=lookup_key,
        created=T0,
        **kwargs,
    )
    return samples.event(event_type, obj, created=created)


def tenant_row(db: Database, tenant: BillingTenant) -> dict[str, Any]:
    [row] = fetch_all(
        db,
        tenant.id,
        "SELECT plan, billing_status, access_level, trial_ends_at,"
        " billing_grace_ends_at FROM tenants WHERE id = %s",
        tenant.id,
    )
    return row


def parked_ids(db: Database) -> list[str]:
    return [parked.event_id for parked in parked_events(limit=100, database=db)]


def count(db: Database, tenant: BillingTenant, table: str, where: str = "true") -> int:
    return int(fetch_all(db, tenant.id, f"SELECT count(*) AS n FROM {table} WHERE {where}")[0]["n"])


def test_subscription_created_sets_plan_access_and_audits(app_database, tenant) -> None:
    result = process_event(sub_event(tenant, "customer.subscription.created", lookup_key="pro_monthly"))
    assert (result.outcome, result.tenant_id) == ("applied", tenant.id)
    row = tenant_row(app_database, tenant)
    assert (row["plan"], row["billing_status"], row["access_level"]) == ("pro", "active", "full")
    [audit] = fetch_all(
        app_database, tenant.id, "SELECT actor_type, action, before, after, request_id FROM audit_logs"
    )
    assert (audit["actor_type"], audit["action"], audit["request_id"]) == (
        "stripe",
        "billing.updated",
        result.event_id,
    )
    assert audit["before"]["plan"] == "free"
    assert audit["after"]["plan"] == "pro"
    [sub] = fetch_all(
        app_database,
        tenant.id,
        "SELECT stripe_subscription_id, status, plan, current_period_end FROM subscriptions",
    )
    assert (sub["stripe_subscription_id"], sub["status"], sub["plan"]) == ("sub_main", "active", "pro")
    assert sub["current_period_end"] == datetime.fromtimestamp(T0 + samples.MONTH, tz=UTC)


def test_same_event_three_times_has_one_effect(app_database, tenant) -> None:
    event = sub_event(tenant)
    outcomes = [process_event(event).outcome for _ in range(3)]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert count(app_database, tenant, "stripe_events") == 1
    assert count(app_database, tenant, "audit_logs") == 1
    assert count(app_database, tenant, "subscriptions") == 1


def test_two_concurrent_workers_apply_an_event_once(app_database, pg, tenant) -> None:
    event = samples.event(
        "invoice.payment_failed",
        samples.invoice(customer=tenant.customer, subscription_id=None, status="open"),
    )
    workers = [Database(DatabaseSettings.model_validate({"DATABASE_URL": pg.app_url})) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(db: Database) -> None:
        barrier.wait()
        outcomes.append(process_event(event, database=db).outcome)

    threads = [threading.Thread(target=work, args=(db,)) for db in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for db in workers:
        db.discard()
    assert sorted(outcomes) == ["applied", "duplicate"]
    assert count(app_database, tenant, "jobs") == 1
    assert count(app_database, tenant, "audit_logs") == 1


@pytest.mark.parametrize("seed", range(4))
def test_shuffled_updates_end_in_the_newest_state(app_database, make_tenant, seed) -> None:
    tenant = make_tenant()
    rng = random.Random(seed)
    statuses = ["trialing", "active", "past_due", "active", "unpaid", "active", "past_due", "active"]
    keys = ["starter_monthly", "pro_monthly"]
    events = [
        sub_event(tenant, status=s, lookup_key=rng.choice(keys), created=T0 + i * 10)
        for i, s in enumerate(statuses)
    ]
    newest = events[-1]
    rng.shuffle(events)
    for event in events:
        process_event(event)
    [sub] = fetch_all(
        app_database, tenant.id, "SELECT status, price_lookup_key, last_event_id FROM subscriptions"
    )
    expected_key = newest["data"]["object"]["items"]["data"][0]["price"]["lookup_key"]
    assert (sub["status"], sub["price_lookup_key"], sub["last_event_id"]) == (
        "active",
        expected_key,
        newest["id"],
    )
    row = tenant_row(app_database, tenant)
    assert (row["billing_status"], row["access_level"], row["plan"]) == (
        "active",
        "full",
        expected_key.split("_")[0],
    )
    outcomes = fetch_all(app_database, tenant.id, "SELECT outcome FROM stripe_events")
    assert {o["outcome"] for o in outcomes} <= {"applied", "stale"}


def test_deleted_then_late_updated_stays_canceled(app_database, tenant) -> None:
    process_event(sub_event(tenant, "customer.subscription.created", created=T0))
    process_event(sub_event(tenant, "customer.subscription.deleted", status="canceled", created=T0 + 20))
    late = process_event(sub_event(tenant, status="active", created=T0 + 10))
    # Even an "active" stamped after the deletion cannot revive it: Stripe never reactivates.
    impossible = process_event(sub_event(tenant, status="active", created=T0 + 30))
    assert (late.outcome, impossible.outcome) == ("stale", "stale")
    [sub] = fetch_all(app_database, tenant.id, "SELECT status FROM subscriptions")
    assert sub["status"] == "canceled"
    row = tenant_row(app_database, tenant)
    assert (row["plan"], row["billing_status"], row["access_level"]) == ("free", "canceled", "full")


def test_canceled_for_non_payment_suspends(app_database, tenant) -> None:
    process_event(sub_event(tenant, status="past_due", created=T0))
    process_event(
        sub_event(
            tenant,
            "customer.subscription.deleted",
            status="canceled",
            created=T0 + 5,
            cancellation_reason="payment_failed",
        )
    )
    assert tenant_row(app_database, tenant)["access_level"] == "suspended"


def test_past_due_starts_the_configured_grace_period(app_database, tenant, monkeypatch) -> None:
    monkeypatch.setenv("BILLING_GRACE_PERIOD_DAYS", "3")
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    process_event(sub_event(tenant, status="past_due"), now=now)
    row = tenant_row(app_database, tenant)
    assert (row["access_level"], row["billing_grace_ends_at"]) == ("grace", now + timedelta(days=3))
    later = process_event(sub_event(tenant, status="past_due", created=T0 + 1), now=now + timedelta(days=4))
    assert later.outcome == "applied"
    assert tenant_row(app_database, tenant)["access_level"] == "read_only"


def test_payment_failed_queues_one_dunning_email(app_database, tenant) -> None:
    process_event(sub_event(tenant, status="past_due"))
    invoice = samples.invoice(
        customer=tenant.customer, subscription_id="sub_main", status="open", amount_due=2000
    )
    event = samples.event("invoice.payment_failed", invoice)
    process_event(event)
    process_event(event)
    [job] = fetch_all(app_database, tenant.id, "SELECT type, payload, dedup_key FROM jobs")
    assert (job["type"], job["dedup_key"]) == ("send_email", f"stripe:{event['id']}")
    assert job["payload"]["template"] == "billing_payment_failed"
    assert job["payload"]["data"]["hosted_invoice_url"] == invoice["hosted_invoice_url"]
    [sub] = fetch_all(app_database, tenant.id, "SELECT latest_invoice_status FROM subscriptions")
    assert sub["latest_invoice_status"] == "payment_failed"


@pytest.mark.parametrize(
    "event_type", ["invoice.paid", "invoice.payment_succeeded", "invoice.payment_action_required"]
)
def test_invoice_events_are_recorded_and_audited(app_database, tenant, event_type) -> None:
    event = samples.build_event(event_type, customer=tenant.customer, tenant_id=str(tenant.id))
    assert process_event(event).outcome == "applied"
    [audit] = fetch_all(app_database, tenant.id, "SELECT action FROM audit_logs")
    assert audit["action"] == f"billing.{event_type}"
    jobs = count(app_database, tenant, "jobs")
    assert jobs == (1 if event_type.endswith("action_required") else 0)


def test_trial_will_end_queues_a_reminder_and_keeps_trial_dates(app_database, tenant) -> None:
    event = samples.build_event(
        "customer.subscription.trial_will_end", customer=tenant.customer, tenant_id=str(tenant.id)
    )
    process_event(event)
    row = tenant_row(app_database, tenant)
    assert row["billing_status"] == "trialing"
    assert row["trial_ends_at"] == datetime.fromtimestamp(event["data"]["object"]["trial_end"], tz=UTC)
    [job] = fetch_all(app_database, tenant.id, "SELECT payload FROM jobs")
    assert job["payload"]["template"] == "billing_trial_will_end"


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("customer.subscription.paused", "paused"), ("customer.subscription.resumed", "active")],
)
def test_paused_and_resumed(app_database, tenant, event_type, status) -> None:
    process_event(samples.build_event(event_type, customer=tenant.customer, tenant_id=str(tenant.id)))
    expected = "read_only" if status == "paused" else "full"
    assert tenant_row(app_database, tenant)["access_level"] == expected


def test_customer_updated_and_deleted(app_database, tenant) -> None:
    process_event(sub_event(tenant))
    updated = samples.event(
        "customer.updated",
        samples.customer_object(customer=tenant.customer, tenant_id=str(tenant.id), email="new@example.com"),
        created=T0 + 10,
    )
    stale = samples.event(
        "customer.updated",
        samples.customer_object(customer=tenant.customer, tenant_id=str(tenant.id), email="old@example.com"),
        created=T0 + 5,
    )
    assert [process_event(e).outcome for e in (updated, stale)] == ["applied", "stale"]
    [customer] = fetch_all(app_database, tenant.id, "SELECT email, deleted_at FROM billing_customers")
    assert (customer["email"], customer["deleted_at"]) == ("new@example.com", None)
    deleted = samples.event(
        "customer.deleted",
        samples.customer_object(customer=tenant.customer, tenant_id=str(tenant.id)),
        created=T0 + 20,
    )
    process_event(deleted)
    row = tenant_row(app_database, tenant)
    assert (row["plan"], row["access_level"]) == ("free", "suspended")


def test_second_live_subscription_is_refused_not_billed_twice(app_database, tenant) -> None:
    process_event(sub_event(tenant, sub_id="sub_first", lookup_key="starter_monthly"))
    second = process_event(
        sub_event(tenant, "customer.subscription.created", sub_id="sub_second", lookup_key="pro_monthly")
    )
    assert second.outcome == "conflict"
    assert [
        r["stripe_subscription_id"]
        for r in fetch_all(app_database, tenant.id, "SELECT stripe_subscription_id FROM subscriptions")
    ] == ["sub_first"]
    assert tenant_row(app_database, tenant)["plan"] == "starter"
    [recorded] = fetch_all(
        app_database, tenant.id, "SELECT outcome FROM stripe_events WHERE id = %s", second.event_id
    )
    assert recorded["outcome"] == "conflict"


def test_database_refuses_two_live_subscriptions_for_a_tenant(app_database, tenant) -> None:
    import psycopg

    process_event(sub_event(tenant, sub_id="sub_first"))
    with (
        pytest.raises(psycopg.errors.UniqueViolation, match="subscriptions_one_live_per_tenant"),
        tenant_transaction(tenant.id, database=app_database) as conn,
    ):
        conn.execute(
            "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan,"
            " stripe_created, last_event_created, last_event_id) VALUES (%s, 'sub_x', %s, 'active', 'pro', now(), now(), 'evt_x')",
            (tenant.id, tenant.customer),
        )


def test_unknown_types_are_recorded_and_acknowledged(app_database, tenant) -> None:
    event = samples.event(
        "customer.tax_id.created", {"id": "txi_1", "object": "tax_id", "customer": tenant.customer}
    )
    assert process_event(event).outcome == "ignored"
    [row] = fetch_all(app_database, tenant.id, "SELECT type, outcome FROM stripe_events")
    assert (row["type"], row["outcome"]) == ("customer.tax_id.created", "ignored")


def test_event_with_no_customer_and_no_tenant_is_acknowledged(app_database, tenant) -> None:
    event = samples.event("product.created", {"id": "prod_1", "object": "product"})
    assert process_event(event).outcome == "unroutable"
    assert count(app_database, tenant, "stripe_events") == 0
    assert parked_ids(app_database) == []


def test_checkout_completed_links_the_customer_by_tenant_metadata(app_database, make_tenant) -> None:
    tenant = make_tenant(with_customer=False)
    event = samples.build_event(
        "checkout.session.completed",
        customer=tenant.customer,
        tenant_id=str(tenant.id),
        subscription_id="sub_new",
    )
    assert process_event(event).outcome == "applied"
    [customer] = fetch_all(app_database, tenant.id, "SELECT stripe_customer_id FROM billing_customers")
    assert customer["stripe_customer_id"] == tenant.customer
    # Later events find the tenant through the customer alone.
    later = samples.event(
        "invoice.paid", samples.invoice(customer=tenant.customer, subscription_id="sub_new")
    )
    assert process_event(later).tenant_id == tenant.id


def test_refetch_applies_stripes_current_subscription(
    app_database, tenant, stripe_stub: StripeStub, monkeypatch
) -> None:
    from saascore.billing.stripe_api import get_stripe_client

    monkeypatch.setenv("STRIPE_REFETCH_OBJECTS", "true")
    get_stripe_client.cache_clear()
    current = stripe_stub.add_subscription(
        customer=tenant.customer, lookup_key="pro_monthly", status="past_due"
    )
    # The event's own (older) snapshot says active/starter; Stripe now says past_due/pro.
    event = sub_event(tenant, sub_id=current["id"], status="active", lookup_key="starter_monthly")
    try:
        assert process_event(event).outcome == "applied"
    finally:
        get_stripe_client.cache_clear()
    row = tenant_row(app_database, tenant)
    assert (row["plan"], row["billing_status"]) == ("pro", "past_due")
    assert [r.path for r in stripe_stub.requests] == [f"/v1/subscriptions/{current['id']}"]


def test_failed_event_keeps_its_error_and_is_claimed_again(app_database, tenant) -> None:
    poison = sub_event(tenant)
    poison["data"]["object"]["status"] = "bogus"
    with pytest.raises(Exception, match="subscription without a valid"):
        process_event(poison)
    with pytest.raises(Exception, match="subscription without a valid"):
        process_event(poison)
    [row] = fetch_all(app_database, tenant.id, "SELECT outcome, attempts, detail FROM stripe_events")
    assert (row["outcome"], row["attempts"]) == ("failed", 2)
    assert "MalformedEventError" in row["detail"]
    assert count(app_database, tenant, "subscriptions") == 0


def test_replay_reapplies_a_stored_event_idempotently(app_database, tenant) -> None:
    event = sub_event(tenant, lookup_key="pro_monthly")
    process_event(event)
    replayed = replay_event(event["id"])
    assert replayed is not None
    assert replayed.outcome == "applied"
    assert replay_event(event["id"]).outcome == "applied"  # type: ignore[union-attr]
    assert count(app_database, tenant, "audit_logs") == 1
    [row] = fetch_all(app_database, tenant.id, "SELECT attempts FROM stripe_events")
    assert row["attempts"] == 3
    assert replay_event("evt_unknown") is None


def test_job_delivery_failure_after_commit_does_not_fail_the_event(app_database, tenant, monkeypatch) -> None:
    import psycopg

    from webhooks import dispatch

    def broken(**kwargs: object) -> int:
        raise psycopg.OperationalError("connection lost after commit")

    monkeypatch.setattr(dispatch, "deliver_pending", broken)
    event = samples.event(
        "invoice.payment_failed", samples.invoice(customer=tenant.customer, subscription_id=None)
    )
    assert process_event(event).outcome == "applied"
    # The job row is committed with the event: the outbox sweeper delivers it later.
    assert count(app_database, tenant, "jobs") == 1
    assert count(app_database, tenant, "job_outbox") == 1


def unlinked_sub_event(tenant: BillingTenant, *, status: str, lookup_key: str, created: int):
    """A subscription event whose object names no tenant (a subscription created outside our checkout)."""
    obj = samples.subscription(
        customer=tenant.customer, subscription_id="sub_main", status=status, lookup_key=lookup_key, created=T0
    )
    return samples.event("customer.subscription.updated", obj, created=created)


def checkout(tenant: BillingTenant, *, created: int):
    event = samples.build_event(
        "checkout.session.completed",
        customer=tenant.customer,
        tenant_id=str(tenant.id),
        subscription_id="sub_main",
    )
    event["created"] = created
    return event


def test_invoice_paid_before_checkout_is_parked_then_applied_once_linked(app_database, make_tenant) -> None:
    tenant = make_tenant(with_customer=False)
    paid = samples.event(
        "invoice.paid", samples.invoice(customer=tenant.customer, subscription_id="sub_main"), created=T0 + 10
    )
    assert process_event(paid).outcome == "parked"
    assert process_event(paid).outcome == "parked"  # a redelivery is counted, not parked twice
    [parked] = parked_events(limit=10, database=app_database)
    assert (parked.event_id, parked.customer_id, parked.deliveries) == (paid["id"], tenant.customer, 2)
    assert count(app_database, tenant, "stripe_events") == 0
    linked = process_event(checkout(tenant, created=T0))
    assert (linked.outcome, linked.unparked, linked.tenant_id) == ("applied", 1, tenant.id)
    assert parked_ids(app_database) == []
    rows = fetch_all(app_database, tenant.id, "SELECT id, outcome FROM stripe_events ORDER BY stripe_created")
    assert rows == [{"id": linked.event_id, "outcome": "applied"}, {"id": paid["id"], "outcome": "applied"}]
    [audit] = fetch_all(app_database, tenant.id, "SELECT action, resource_id FROM audit_logs")
    assert audit["action"] == "billing.invoice.paid"
    # Exactly once: the parked event arriving again now is a duplicate, not a second effect.
    assert process_event(paid).outcome == "duplicate"
    assert count(app_database, tenant, "audit_logs") == 1


def test_parked_events_apply_in_created_order_not_arrival_order(app_database, make_tenant) -> None:
    tenant = make_tenant(with_customer=False)
    arrivals = [
        unlinked_sub_event(tenant, status="active", lookup_key="pro_monthly", created=T0 + 30),
        unlinked_sub_event(tenant, status="trialing", lookup_key="starter_monthly", created=T0 + 10),
        unlinked_sub_event(tenant, status="past_due", lookup_key="starter_monthly", created=T0 + 20),
    ]
    assert [process_event(e).outcome for e in arrivals] == ["parked"] * 3
    assert process_event(checkout(tenant, created=T0 + 5)).unparked == 3
    outcomes = fetch_all(
        app_database, tenant.id, "SELECT id, outcome FROM stripe_events ORDER BY stripe_created"
    )
    # In arrival order the two older updates would have been stale; in created order each one applies.
    assert [o["outcome"] for o in outcomes] == ["applied"] * 4
    assert [o["id"] for o in outcomes][1:] == [arrivals[1]["id"], arrivals[2]["id"], arrivals[0]["id"]]
    [sub] = fetch_all(app_database, tenant.id, "SELECT status, plan, last_event_id FROM subscriptions")
    assert (sub["status"], sub["plan"], sub["last_event_id"]) == ("active", "pro", arrivals[0]["id"])
    row = tenant_row(app_database, tenant)
    assert (row["plan"], row["billing_status"], row["access_level"]) == ("pro", "active", "full")
    # Newest wins still holds afterwards: an event older than the state applied is stale.
    late = unlinked_sub_event(tenant, status="unpaid", lookup_key="starter_monthly", created=T0 + 25)
    assert process_event(late).outcome == "stale"


def test_parked_events_newer_and_older_than_the_linking_event(app_database, make_tenant) -> None:
    tenant = make_tenant(with_customer=False)
    older = unlinked_sub_event(tenant, status="trialing", lookup_key="starter_monthly", created=T0)
    process_event(older)
    # The linking event is itself a subscription update, newer than the parked one.
    linking = sub_event(tenant, status="active", lookup_key="pro_monthly", created=T0 + 50)
    result = process_event(linking)
    assert (result.outcome, result.unparked) == ("applied", 1)
    outcomes = {
        r["id"]: r["outcome"]
        for r in fetch_all(app_database, tenant.id, "SELECT id, outcome FROM stripe_events")
    }
    assert outcomes == {older["id"]: "applied", linking["id"]: "applied"}
    assert tenant_row(app_database, tenant)["plan"] == "pro"


def test_a_customer_linked_by_the_api_releases_its_parked_events_on_its_next_event(
    app_database, make_tenant
) -> None:
    tenant = make_tenant(with_customer=False)
    paid = samples.event("invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None))
    assert process_event(paid).outcome == "parked"
    with tenant_transaction(tenant.id, database=app_database) as conn:  # what POST /billing/checkout does
        conn.execute(
            "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
            (tenant.id, tenant.customer),
        )
    nxt = process_event(unlinked_sub_event(tenant, status="active", lookup_key="starter_monthly", created=T0))
    assert (nxt.outcome, nxt.unparked) == ("applied", 1)
    assert parked_ids(app_database) == []
    # The container now knows the customer: later events skip the park entirely.
    assert dispatch._tenant_of_customer[tenant.customer] == tenant.id


def test_a_customer_linked_between_look_up_and_park_is_applied_not_parked(
    app_database, tenant, monkeypatch
) -> None:
    monkeypatch.setattr(dispatch, "tenant_by_customer", lambda customer, *, database=None: None)
    paid = samples.event("invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None))
    result = process_event(paid)
    assert (result.outcome, result.tenant_id) == ("applied", tenant.id)
    assert parked_ids(app_database) == []


def test_a_failing_parked_event_is_recorded_and_the_others_still_apply(app_database, make_tenant) -> None:
    tenant = make_tenant(with_customer=False)
    poison = unlinked_sub_event(tenant, status="active", lookup_key="starter_monthly", created=T0 + 1)
    poison["data"]["object"]["status"] = "bogus"
    paid = samples.event(
        "invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None), created=T0 + 2
    )
    assert [process_event(e).outcome for e in (poison, paid)] == ["parked", "parked"]
    assert process_event(checkout(tenant, created=T0)).unparked == 2
    rows = {
        r["id"]: (r["outcome"], r["detail"])
        for r in fetch_all(app_database, tenant.id, "SELECT id, outcome, detail FROM stripe_events")
    }
    assert rows[paid["id"]] == ("applied", None)
    assert rows[poison["id"]][0] == "failed"
    assert "MalformedEventError" in rows[poison["id"]][1]
    assert count(app_database, tenant, "subscriptions") == 0
    assert parked_ids(app_database) == []


def test_an_event_naming_a_tenant_that_does_not_exist_is_parked(app_database, make_tenant) -> None:
    import uuid

    tenant = make_tenant(with_customer=False)
    stray = samples.build_event(
        "customer.subscription.updated", customer=tenant.customer, tenant_id=str(uuid.uuid4())
    )
    assert process_event(stray).outcome == "parked"
    # The operator routes it (a customer created outside the API): the customer is linked to the tenant.
    replayed = replay_event(stray["id"], tenant_id=tenant.id)
    assert replayed is not None
    assert (replayed.outcome, replayed.tenant_id) == ("applied", tenant.id)
    [customer] = fetch_all(app_database, tenant.id, "SELECT stripe_customer_id FROM billing_customers")
    assert customer["stripe_customer_id"] == tenant.customer
    assert parked_ids(app_database) == []


def test_replaying_a_parked_event_whose_customer_is_still_unknown_keeps_it_parked(
    app_database, make_tenant
) -> None:
    tenant = make_tenant(with_customer=False)
    paid = samples.event("invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None))
    process_event(paid)
    replayed = replay_event(paid["id"])
    assert replayed is not None
    assert replayed.outcome == "parked"
    assert parked_ids(app_database) == [paid["id"]]


def test_a_second_customer_naming_a_tenant_is_not_linked_nor_cached(app_database, tenant) -> None:
    stranger = "cus_second_" + tenant.slug
    event = samples.build_event("customer.subscription.updated", customer=stranger, tenant_id=str(tenant.id))
    assert process_event(event).outcome == "applied"
    [customer] = fetch_all(app_database, tenant.id, "SELECT stripe_customer_id FROM billing_customers")
    assert customer["stripe_customer_id"] == tenant.customer  # one customer per tenant stays
    assert stranger not in dispatch._tenant_of_customer


def test_an_event_of_a_dedicated_cell_tenant_is_routed_and_applied_in_its_cell(app_database, cells) -> None:
    from saascore.db.cells import cell_database, place_tenant
    from tests.integration.webhooks.conftest import create_tenant
    from tests.support.cells import DEDICATED_CELL

    dedicated = cell_database(DEDICATED_CELL)
    tenant = create_tenant(dedicated)  # its customer is linked in the dedicated cell only
    place_tenant(app_database, tenant.id, DEDICATED_CELL)
    result = process_event(sub_event(tenant, "customer.subscription.created", lookup_key="pro_monthly"))
    assert (result.outcome, result.tenant_id) == ("applied", tenant.id)
    assert tenant_row(dedicated, tenant)["plan"] == "pro"
    assert count(dedicated, tenant, "stripe_events") == 1
    assert count(app_database, tenant, "stripe_events") == 0
    replayed = replay_event(result.event_id)  # the stored event is found in its cell too
    assert replayed is not None
    assert replayed.tenant_id == tenant.id


def test_an_event_routed_by_a_stale_cached_cell_is_applied_in_the_tenants_cell(app_database, cells) -> None:
    """The processor's cache still names the pooled cell of a tenant that moved to a dedicated one: the
    pooled cell refuses the write (the tenant is not there), and the event is applied where it is."""
    from saascore.db.cells import POOLED_CELL, cell_database, get_cell_router, place_tenant
    from tests.integration.webhooks.conftest import create_tenant
    from tests.support.cells import DEDICATED_CELL

    dedicated = cell_database(DEDICATED_CELL)
    tenant = create_tenant(dedicated)
    place_tenant(app_database, tenant.id, DEDICATED_CELL)
    get_cell_router().remember(tenant.id, POOLED_CELL)  # what the container knew before the move
    result = process_event(sub_event(tenant, "customer.subscription.created", lookup_key="pro_monthly"))
    assert (result.outcome, result.tenant_id) == ("applied", tenant.id)
    assert tenant_row(dedicated, tenant)["plan"] == "pro"
    assert count(app_database, tenant, "stripe_events") == 0
    assert get_cell_router().tenant_cell(tenant.id) == DEDICATED_CELL
