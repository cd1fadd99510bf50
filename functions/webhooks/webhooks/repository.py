"""Plain SQL for the processor, one small function per statement; every call runs in a tenant transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.billing.events import StripeEvent, SubscriptionSnapshot
from saascore.billing.state import AccessLevel, SubscriptionStatus, TenantBilling
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenantless_transaction

LIVE_FILTER = "status NOT IN ('canceled', 'incomplete_expired')"


def tenant_by_customer(customer_id: str, *, database: Database | None = None) -> UUID | None:
    with tenantless_transaction(database=database) as conn:
        row = conn.execute(
            "SELECT app.tenant_id_by_stripe_customer(%s) AS tenant_id", (customer_id,)
        ).fetchone()
    return None if row is None else row["tenant_id"]


def tenant_by_event(event_id: str, *, database: Database | None = None) -> UUID | None:
    with tenantless_transaction(database=database) as conn:
        row = conn.execute("SELECT app.tenant_id_by_stripe_event(%s) AS tenant_id", (event_id,)).fetchone()
    return None if row is None else row["tenant_id"]


def lock_and_claim(
    conn: Connection, *, tenant_id: UUID, event: StripeEvent, payload: Mapping[str, Any], again: bool = False
) -> tuple[TenantBilling | None, bool]:
    """Lock the tenant row and record the event, in one round trip.

    Returns the tenant's billing summary (None: no such tenant, nothing recorded) and whether the event
    is ours to apply: False when it was already applied. A failed earlier attempt is claimed again, and so
    is any recorded event when ``again`` (operator replay). The lock serialises one tenant's events
    across workers; the insert reads the locked row, so it runs after the lock is held.
    """
    row = conn.execute(
        "WITH tenant AS (SELECT plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at"
        " FROM tenants WHERE id = %(tenant)s FOR UPDATE),"
        " claim AS (INSERT INTO stripe_events (id, tenant_id, type, stripe_created, livemode, stripe_customer_id,"
        " object_id, payload) SELECT %(id)s, %(tenant)s, %(type)s, %(created)s, %(livemode)s, %(customer)s,"
        " %(object)s, %(payload)s WHERE EXISTS (SELECT FROM tenant)"
        " ON CONFLICT (id) DO UPDATE SET outcome = 'applied', detail = NULL, attempts = stripe_events.attempts + 1"
        " WHERE stripe_events.outcome = 'failed' OR %(again)s RETURNING id)"
        " SELECT tenant.*, EXISTS (SELECT FROM claim) AS claimed FROM tenant",
        {
            "tenant": tenant_id,
            "id": event.id,
            "type": event.type,
            "created": event.created,
            "livemode": event.livemode,
            "customer": event.customer_id,
            "object": event.object_id,
            "payload": Jsonb(payload),
            "again": again,
        },
    ).fetchone()
    if row is None:
        return None, False
    billing = TenantBilling(
        plan=row["plan"],
        billing_status=row["billing_status"],
        access_level=AccessLevel(row["access_level"]),
        trial_ends_at=row["trial_ends_at"],
        grace_ends_at=row["billing_grace_ends_at"],
    )
    return billing, bool(row["claimed"])


def set_event_outcome(conn: Connection, *, event_id: str, outcome: str, detail: str | None = None) -> None:
    conn.execute(
        "UPDATE stripe_events SET outcome = %s, detail = %s WHERE id = %s", (outcome, detail, event_id)
    )


def record_failure(
    conn: Connection, *, tenant_id: UUID, event: StripeEvent, payload: Mapping[str, Any], error: str
) -> None:
    """Keep the error of a failed attempt (its effect was rolled back) for operators and the DLQ runbook."""
    conn.execute(
        "INSERT INTO stripe_events (id, tenant_id, type, stripe_created, livemode, stripe_customer_id, object_id,"
        " payload, outcome, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'failed', %s) "
        "ON CONFLICT (id) DO UPDATE SET detail = EXCLUDED.detail, attempts = stripe_events.attempts + 1 "
        "WHERE stripe_events.outcome = 'failed'",
        (
            event.id,
            tenant_id,
            event.type,
            event.created,
            event.livemode,
            event.customer_id,
            event.object_id,
            Jsonb(payload),
            error[:2000],
        ),
    )


def load_event_payload(conn: Connection, *, event_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT payload FROM stripe_events WHERE id = %s", (event_id,)).fetchone()
    return None if row is None else dict(row["payload"])


def link_customer(conn: Connection, *, tenant_id: UUID, customer_id: str, livemode: bool) -> None:
    """Remember the tenant's customer if it has none yet (one customer per tenant stays enforced)."""
    conn.execute(
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id, livemode) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (tenant_id, customer_id, livemode),
    )


def customer_last_event(conn: Connection, *, customer_id: str) -> tuple[bool, datetime | None]:
    row = conn.execute(
        "SELECT last_event_created FROM billing_customers WHERE stripe_customer_id = %s FOR UPDATE",
        (customer_id,),
    ).fetchone()
    return (False, None) if row is None else (True, row["last_event_created"])


def update_customer(
    conn: Connection, *, customer_id: str, email: str | None, event_created: datetime, deleted: bool
) -> None:
    conn.execute(
        "UPDATE billing_customers SET email = %s, last_event_created = %s, "
        "deleted_at = CASE WHEN %s THEN now() ELSE deleted_at END WHERE stripe_customer_id = %s",
        (email, event_created, deleted, customer_id),
    )


def subscriptions_for_update(
    conn: Connection, *, tenant_id: UUID, subscription_id: str
) -> tuple[dict[str, Any] | None, str | None]:
    """This subscription's row, and the id of another live subscription of the tenant (if any)."""
    rows = conn.execute(
        "SELECT stripe_subscription_id, status, last_event_created FROM subscriptions "
        f"WHERE stripe_subscription_id = %s OR (tenant_id = %s AND {LIVE_FILTER}) FOR UPDATE",
        (subscription_id, tenant_id),
    ).fetchall()
    own = next((dict(r) for r in rows if r["stripe_subscription_id"] == subscription_id), None)
    other = next(
        (r["stripe_subscription_id"] for r in rows if r["stripe_subscription_id"] != subscription_id), None
    )
    return own, other


def upsert_subscription(
    conn: Connection,
    *,
    tenant_id: UUID,
    snapshot: SubscriptionSnapshot,
    status: SubscriptionStatus,
    plan: str,
    event: StripeEvent,
) -> None:
    conn.execute(
        "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan,"
        " price_lookup_key, stripe_price_id, stripe_item_id, current_period_end, trial_end, cancel_at_period_end,"
        " canceled_at, cancellation_reason, stripe_created, last_event_created, last_event_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (stripe_subscription_id) DO UPDATE SET status = EXCLUDED.status, plan = EXCLUDED.plan,"
        " price_lookup_key = EXCLUDED.price_lookup_key, stripe_price_id = EXCLUDED.stripe_price_id,"
        " stripe_item_id = EXCLUDED.stripe_item_id, current_period_end = EXCLUDED.current_period_end,"
        " trial_end = EXCLUDED.trial_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end,"
        " canceled_at = EXCLUDED.canceled_at, cancellation_reason = EXCLUDED.cancellation_reason,"
        " last_event_created = EXCLUDED.last_event_created, last_event_id = EXCLUDED.last_event_id",
        (
            tenant_id,
            snapshot.id,
            snapshot.customer_id,
            status.value,
            plan,
            snapshot.price_lookup_key,
            snapshot.price_id,
            snapshot.item_id,
            snapshot.current_period_end,
            snapshot.trial_end,
            snapshot.cancel_at_period_end,
            snapshot.canceled_at,
            snapshot.cancellation_reason,
            snapshot.created,
            event.created,
            event.id,
        ),
    )


def set_latest_invoice_status(conn: Connection, *, subscription_id: str, status: str) -> None:
    conn.execute(
        "UPDATE subscriptions SET latest_invoice_status = %s WHERE stripe_subscription_id = %s",
        (status, subscription_id),
    )


def update_tenant_billing(
    conn: Connection, *, tenant_id: UUID, billing: TenantBilling, event_id: str, before: Mapping[str, Any]
) -> None:
    """Store the tenant's new billing summary and its audit entry in one statement."""
    conn.execute(
        "WITH updated AS (UPDATE tenants SET plan = %(plan)s, billing_status = %(status)s,"
        " access_level = %(level)s, trial_ends_at = %(trial)s, billing_grace_ends_at = %(grace)s"
        " WHERE id = %(tenant)s RETURNING id)"
        " INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, before, after,"
        " request_id) SELECT id, 'stripe', 'billing.updated', 'tenant', id::text, %(before)s, %(after)s,"
        " %(event)s FROM updated",
        {
            "plan": billing.plan,
            "status": billing.billing_status,
            "level": billing.access_level.value,
            "trial": billing.trial_ends_at,
            "grace": billing.grace_ends_at,
            "tenant": tenant_id,
            "before": Jsonb(before),
            "after": Jsonb(billing_document(billing)),
            "event": event_id,
        },
    )


def audit(
    conn: Connection,
    *,
    tenant_id: UUID,
    action: str,
    resource_type: str,
    resource_id: str,
    event_id: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, before, after,"
        " request_id) VALUES (%s, 'stripe', %s, %s, %s, %s, %s, %s)",
        (
            tenant_id,
            action,
            resource_type,
            resource_id,
            None if before is None else Jsonb(before),
            None if after is None else Jsonb(after),
            event_id,
        ),
    )


def billing_document(billing: TenantBilling) -> dict[str, Any]:
    """The audit before/after image of a tenant's billing summary."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else str(value) if value is not None else None
        for key, value in asdict(billing).items()
    }
