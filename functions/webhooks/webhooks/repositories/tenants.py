"""The tenant's billing summary and the audit entries of Stripe's changes (tenant transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.billing.state import AccessLevel, TenantBilling
from saascore.db.connection import Connection


def billing_summary(conn: Connection, *, tenant_id: UUID) -> TenantBilling:
    """The tenant's billing summary as this transaction sees it (after the effects it applied)."""
    row = conn.execute(
        "SELECT plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at FROM tenants"
        " WHERE id = %s",
        (tenant_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"tenant {tenant_id} vanished inside its own locked transaction")
    return TenantBilling(
        plan=row["plan"],
        billing_status=row["billing_status"],
        access_level=AccessLevel(row["access_level"]),
        trial_ends_at=row["trial_ends_at"],
        grace_ends_at=row["billing_grace_ends_at"],
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
