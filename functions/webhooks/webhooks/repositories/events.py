"""The ``stripe_events`` ledger (claim, outcome, failure, payload) and the park of events not routable yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.billing.events import StripeEvent
from saascore.billing.state import AccessLevel, TenantBilling
from saascore.db.cells import every_cell_database
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenantless_transaction


def tenant_by_event(event_id: str, *, database: Database | None = None) -> UUID | None:
    """The tenant a stored event belongs to; every cell is asked, pooled first (``database``: the pooled)."""
    for db in every_cell_database(default=database):
        with tenantless_transaction(database=db) as conn:
            row = conn.execute(
                "SELECT app.tenant_id_by_stripe_event(%s) AS tenant_id", (event_id,)
            ).fetchone()
        if row is not None and row["tenant_id"] is not None:
            tenant_id: UUID = row["tenant_id"]
            return tenant_id
    return None


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


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    event_id: str
    customer_id: str
    type: str
    created: datetime
    reason: str
    deliveries: int
    parked_at: datetime


def park_event(
    event: StripeEvent, payload: Mapping[str, Any], *, reason: str, database: Database | None = None
) -> UUID | None:
    """Park an event of an unlinked customer; returns the tenant instead if the customer got linked."""
    with tenantless_transaction(database=database) as conn:
        row = conn.execute(
            "SELECT app.park_stripe_event(%s, %s, %s, %s, %s, %s, %s) AS tenant_id",
            (
                event.id,
                event.customer_id,
                event.type,
                event.created,
                event.livemode,
                reason,
                Jsonb(payload),
            ),
        ).fetchone()
    return None if row is None else row["tenant_id"]


def take_parked(conn: Connection, *, customer_id: str) -> list[dict[str, Any]]:
    """Remove and return the payloads parked for the current tenant's customer, oldest first."""
    rows = conn.execute(
        "SELECT event_payload FROM app.take_parked_stripe_events(%s)", (customer_id,)
    ).fetchall()
    return [dict(row["event_payload"]) for row in rows]


def parked_events(*, limit: int, database: Database | None = None) -> list[ParkedEvent]:
    with tenantless_transaction(database=database) as conn:
        rows = conn.execute("SELECT * FROM app.parked_stripe_events(%s)", (limit,)).fetchall()
    return [
        ParkedEvent(
            event_id=row["event_id"],
            customer_id=row["stripe_customer_id"],
            type=row["event_type"],
            created=row["stripe_created"],
            reason=row["reason"],
            deliveries=row["deliveries"],
            parked_at=row["parked_at"],
        )
        for row in rows
    ]


def parked_payload(event_id: str, *, database: Database | None = None) -> dict[str, Any] | None:
    with tenantless_transaction(database=database) as conn:
        row = conn.execute("SELECT app.parked_stripe_event(%s) AS payload", (event_id,)).fetchone()
    return None if row is None or row["payload"] is None else dict(row["payload"])
