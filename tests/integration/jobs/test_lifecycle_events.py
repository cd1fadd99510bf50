"""Lifecycle transitions record `tenant.*` domain events in their own transaction (operator and billing),
none when nothing changes or the transition is refused, and an endpoint subscribed to them receives them
signed; a finished customer export records one `export.ready`."""

from __future__ import annotations

import contextvars
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from saascore.billing.state import AccessLevel
from saascore.db.connection import get_database
from saascore.db.tenancy import tenant_transaction
from saascore.events import remember_subscriptions
from saascore.events.secrets import encrypt_secret, generate_secret
from saascore.jobs import deliver_pending
from saascore.lifecycle.exceptions import TransitionNotAllowedError
from saascore.lifecycle.states import Action
from saascore.lifecycle.transitions import apply_operator_action, follow_billing
from tests.support.webhooks import DeliveryQueue, Receiver, pump, receiver, webhooks_aws

__all__ = ["receiver", "webhooks_aws"]

GRACE = timedelta(days=14)


def operator(tenant: uuid.UUID, action: Action, **extra: Any) -> Any:
    with tenant_transaction(tenant) as conn:
        return apply_operator_action(
            conn,
            tenant_id=tenant,
            action=action,
            requested_by="ops@example.com",
            now=datetime.now(UTC),
            grace_period=GRACE,
            **extra,
        )


def events(owner_sql, tenant: uuid.UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = owner_sql(
        tenant,
        "SELECT type, version, actor_type, request_id, data FROM events ORDER BY occurred_at, id",
    )
    return rows


def test_each_operator_transition_records_its_event_and_a_repeat_none(app_database, make_tenant, owner_sql):
    tenant = make_tenant()
    operator(tenant, Action.SUSPEND, note="abuse report 42")
    operator(tenant, Action.SUSPEND)  # already suspended: nothing changed
    operator(tenant, Action.REACTIVATE)
    operator(tenant, Action.REACTIVATE)
    operator(tenant, Action.OFFBOARD)
    operator(tenant, Action.OFFBOARD)
    operator(tenant, Action.REACTIVATE)  # cancels the offboarding

    recorded = events(owner_sql, tenant)
    assert [(e["type"], e["version"], e["actor_type"]) for e in recorded] == [
        ("tenant.suspended", 1, "system"),
        ("tenant.reactivated", 1, "system"),
        ("tenant.offboarding_started", 1, "system"),
        ("tenant.offboarding_canceled", 1, "system"),
    ]
    suspended, _, offboarding, canceled = (e["data"] for e in recorded)
    assert suspended == {
        "tenant_id": str(tenant),
        "lifecycle": {"lifecycle_state": "suspended", "lifecycle_hold": "operator", "erase_after": None},
        "previous": {"lifecycle_state": "active", "lifecycle_hold": None, "erase_after": None},
        "driven_by": "operator",
        "stripe_event_id": None,
    }
    # The operator's note and name stay in the audit log: they are not the tenant's to see.
    assert "abuse report" not in json.dumps(recorded)
    assert "ops@example.com" not in json.dumps(recorded)
    [row] = owner_sql(tenant, "SELECT erase_after FROM tenants WHERE id = %s", (tenant,))
    assert row["erase_after"] is None  # canceled
    erase_after = datetime.fromisoformat(offboarding["lifecycle"]["erase_after"])
    assert erase_after - datetime.now(UTC) > GRACE - timedelta(minutes=1)
    assert canceled["previous"]["lifecycle_state"] == "offboarding"
    assert canceled["lifecycle"] == {"lifecycle_state": "active", "lifecycle_hold": None, "erase_after": None}


def test_a_refused_or_rolled_back_transition_records_no_event(app_database, make_tenant, owner_sql):
    tenant = make_tenant()
    operator(tenant, Action.OFFBOARD)
    with pytest.raises(TransitionNotAllowedError):
        operator(tenant, Action.SUSPEND)
    with pytest.raises(RuntimeError), tenant_transaction(tenant) as conn:
        apply_operator_action(
            conn,
            tenant_id=tenant,
            action=Action.REACTIVATE,
            requested_by="ops",
            now=datetime.now(UTC),
            grace_period=GRACE,
        )
        raise RuntimeError("the caller's transaction fails after the transition")
    assert [e["type"] for e in events(owner_sql, tenant)] == ["tenant.offboarding_started"]
    [row] = owner_sql(tenant, "SELECT lifecycle_state FROM tenants WHERE id = %s", (tenant,))
    assert row["lifecycle_state"] == "offboarding"


def test_billing_places_and_lifts_its_hold_with_stripe_events(app_database, make_tenant, owner_sql):
    tenant = make_tenant()
    for access, event_id in (
        (AccessLevel.SUSPENDED, "evt_suspend"),
        (AccessLevel.SUSPENDED, "evt_again"),  # already held by billing
        (AccessLevel.FULL, "evt_paid"),
    ):
        with tenant_transaction(tenant) as conn:
            follow_billing(conn, tenant_id=tenant, access=access, event_id=event_id)
    recorded = events(owner_sql, tenant)
    assert [(e["type"], e["actor_type"], e["request_id"]) for e in recorded] == [
        ("tenant.suspended", "stripe", "evt_suspend"),
        ("tenant.reactivated", "stripe", "evt_paid"),
    ]
    assert recorded[0]["data"]["driven_by"] == "billing"
    assert recorded[0]["data"]["lifecycle"]["lifecycle_hold"] == "billing"
    assert recorded[1]["data"]["stripe_event_id"] == "evt_paid"


def test_a_request_that_read_another_tenants_endpoints_still_finds_this_tenants(
    app_database, make_tenant, owner_sql, queues
):
    """A platform operator's request read its own tenant's endpoints (none); the target tenant's are asked."""
    tenant, operators_tenant = make_tenant(), make_tenant()
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoints (tenant_id, url, event_types) VALUES (%s, %s, %s)",
        (tenant, "https://hooks.example.com/t", ["tenant.suspended"]),
    )

    def operators_request() -> None:
        remember_subscriptions(operators_tenant, None)
        operator(tenant, Action.SUSPEND)

    contextvars.copy_context().run(operators_request)
    [job] = owner_sql(tenant, "SELECT type, payload FROM jobs WHERE tenant_id = %s", (tenant,))
    assert job["type"] == "dispatch_event"


@pytest.mark.usefixtures("app_database")
def test_an_endpoint_subscribed_to_tenant_events_receives_them_signed(
    webhooks_aws: DeliveryQueue, queues, make_tenant, owner_sql, receiver: Receiver
):
    tenant = make_tenant()
    endpoint, secret = uuid.uuid4(), generate_secret()
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types) VALUES (%s, %s, %s, %s)",
        (endpoint, tenant, receiver.url, ["tenant.suspended", "tenant.reactivated"]),
    )
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoint_secrets (tenant_id, endpoint_id, ciphertext) VALUES (%s, %s, %s)",
        (tenant, endpoint, encrypt_secret(secret, tenant_id=tenant, endpoint_id=endpoint)),
    )
    operator(tenant, Action.SUSPEND)
    operator(tenant, Action.OFFBOARD)  # not subscribed: recorded, not delivered
    deliver_pending()
    assert pump(queues, webhooks_aws, get_database()) == ["succeeded", "succeeded"]
    [request] = receiver.requests
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "tenant.suspended"
    assert body["data"]["lifecycle"]["lifecycle_state"] == "suspended"
    assert len(events(owner_sql, tenant)) == 2
