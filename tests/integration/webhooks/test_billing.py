"""Billing status changes applied from Stripe are recorded as `billing.status_changed` domain events, in the
transaction that applies them and only when the status really changes."""

from __future__ import annotations

from tests.integration.webhooks.conftest import fetch_all
from tests.integration.webhooks.test_dispatch import T0, sub_event, tenant_row
from webhooks.dispatch import process_event


def _events(db, tenant):
    return fetch_all(db, tenant.id, "SELECT type, version, actor_type, data FROM events ORDER BY occurred_at")


def test_a_status_change_is_one_event_and_a_duplicate_or_same_status_is_none(app_database, tenant) -> None:
    before = tenant_row(app_database, tenant)["billing_status"]
    created = sub_event(tenant, "customer.subscription.created", status="active", lookup_key="pro_monthly")
    assert process_event(created).outcome == "applied"
    assert process_event(created).outcome == "duplicate"
    replanned = sub_event(tenant, status="active", lookup_key="starter_monthly", created=T0 + 10)
    assert process_event(replanned).outcome == "applied"  # the plan changes, the status does not
    past_due = sub_event(tenant, status="past_due", lookup_key="starter_monthly", created=T0 + 20)
    assert process_event(past_due).outcome == "applied"

    events = _events(app_database, tenant)
    assert [(e["type"], e["actor_type"], e["version"]) for e in events] == [
        ("billing.status_changed", "stripe", 1)
    ] * 2
    first, second = (e["data"] for e in events)
    assert (first["previous_billing_status"], first["billing_status"]) == (before, "active")
    assert first["stripe_event_id"] == created["id"]
    assert (second["previous_billing_status"], second["billing_status"], second["plan"]) == (
        "active",
        "past_due",
        "starter",
    )
    assert second["access_level"] == tenant_row(app_database, tenant)["access_level"]
