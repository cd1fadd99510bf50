"""The lifecycle columns of the tenant row and their audit entries (in the caller's tenant transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.billing.state import AccessLevel
from saascore.db.connection import Connection
from saascore.lifecycle.states import Hold, Lifecycle, LifecycleState


def lock_lifecycle(conn: Connection, *, tenant_id: UUID) -> tuple[Lifecycle, AccessLevel] | None:
    """The tenant's lifecycle and billing access level, row-locked until the transaction ends."""
    row = conn.execute(
        "SELECT lifecycle_state, lifecycle_hold, lifecycle_note, erase_after, access_level FROM tenants"
        " WHERE id = %s FOR UPDATE",
        (tenant_id,),
    ).fetchone()
    if row is None:
        return None
    lifecycle = Lifecycle(
        state=LifecycleState(row["lifecycle_state"]),
        hold=None if row["lifecycle_hold"] is None else Hold(row["lifecycle_hold"]),
        note=row["lifecycle_note"],
        erase_after=row["erase_after"],
    )
    return lifecycle, AccessLevel(row["access_level"])


def store_lifecycle(
    conn: Connection,
    *,
    tenant_id: UUID,
    lifecycle: Lifecycle,
    audit_action: str,
    actor_type: str,
    changed_by: str,
    request_id: str | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    """Write the new lifecycle and its audit entry in one statement."""
    conn.execute(
        "WITH updated AS (UPDATE tenants SET lifecycle_state = %(state)s, lifecycle_hold = %(hold)s,"
        " lifecycle_note = %(note)s, erase_after = %(erase_after)s, lifecycle_changed_at = now(),"
        " lifecycle_changed_by = %(changed_by)s"
        " WHERE id = %(tenant)s RETURNING id)"
        " INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, before, after,"
        " request_id) SELECT id, %(actor)s, %(action)s, 'tenant', id::text, %(before)s, %(after)s,"
        " %(request)s FROM updated",
        {
            "state": lifecycle.state.value,
            "hold": None if lifecycle.hold is None else lifecycle.hold.value,
            "note": lifecycle.note,
            "erase_after": lifecycle.erase_after,
            "tenant": tenant_id,
            "actor": actor_type,
            "changed_by": changed_by,
            "action": audit_action,
            "before": Jsonb(dict(before)),
            "after": Jsonb(dict(after)),
            "request": request_id,
        },
    )


def tenant_id_by_slug(conn: Connection, *, slug: str) -> UUID | None:
    row = conn.execute("SELECT app.tenant_id_by_slug(%s) AS id", (slug,)).fetchone()
    return None if row is None or row["id"] is None else UUID(str(row["id"]))


def erasure_receipt(conn: Connection, *, tenant_id: UUID) -> dict[str, Any] | None:
    """An erasure's receipt (the 0603 directory function; the table itself is closed to the application)."""
    return conn.execute("SELECT * FROM app.erasure_receipt(%s)", (tenant_id,)).fetchone()
