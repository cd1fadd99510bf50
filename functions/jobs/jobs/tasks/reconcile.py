"""`reconcile_subscriptions`: Stripe is the source of truth; fix local subscription rows that drifted.

Every Stripe subscription (status "all", auto-paginated) is compared with its local row on the fields
the platform acts on (status, price lookup key, cancel-at-period-end, period end). A drifted or missing
row is rewritten from Stripe, the tenant's billing summary is recomputed with the same state machine the
webhook processor uses (`saascore.billing.state`), and both changes are audited (actor `system`). The
row's `last_event_created` becomes now, so a webhook older than this read is treated as stale.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from jobs.context import JobContext
from saascore.billing.events import SubscriptionSnapshot
from saascore.billing.repositories.customers import tenant_by_customer
from saascore.billing.repositories.subscriptions import upsert_subscription
from saascore.billing.settings import get_billing_settings
from saascore.billing.state import AccessLevel, TenantBilling, tenant_billing_for
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.cells import route_database
from saascore.db.connection import Connection
from saascore.db.tenancy import tenant_transaction

COMPARED = ("status", "price_lookup_key", "cancel_at_period_end", "current_period_end")
LIVE_EXCLUDED = ("canceled", "incomplete_expired")


def reconcile_subscriptions(ctx: JobContext) -> dict[str, Any]:
    client = get_stripe_client()
    checked, fixed, unknown = 0, [], 0
    for subscription in client.v1.subscriptions.list(
        params={"status": "all", "limit": 100}
    ).auto_paging_iter():
        snapshot = SubscriptionSnapshot.parse(subscription.to_dict())
        checked += 1
        tenant_id = tenant_by_customer(snapshot.customer_id, database=ctx.database)
        if tenant_id is None:
            unknown += 1
            continue
        # A system job's database is the pooled cell's; the tenant may be in another cell.
        with tenant_transaction(tenant_id, database=route_database(tenant_id, default=ctx.database)) as conn:
            if _reconcile_one(conn, ctx, tenant_id, snapshot):
                fixed.append(snapshot.id)
    return {"checked": checked, "fixed": fixed, "unknown_customers": unknown}


def _reconcile_one(
    conn: Connection, ctx: JobContext, tenant_id: UUID, snapshot: SubscriptionSnapshot
) -> bool:
    local = conn.execute(
        "SELECT status, price_lookup_key, cancel_at_period_end, current_period_end FROM subscriptions "
        "WHERE stripe_subscription_id = %s FOR UPDATE",
        (snapshot.id,),
    ).fetchone()
    remote = {
        "status": snapshot.status.value,
        "price_lookup_key": snapshot.price_lookup_key,
        "cancel_at_period_end": snapshot.cancel_at_period_end,
        "current_period_end": snapshot.current_period_end,
    }
    if local is not None and all(local[field] == remote[field] for field in COMPARED):
        return False
    other_live = conn.execute(
        "SELECT 1 FROM subscriptions WHERE tenant_id = %s AND stripe_subscription_id <> %s "
        "AND status NOT IN ('canceled', 'incomplete_expired')",
        (tenant_id, snapshot.id),
    ).fetchone()
    if other_live is not None and snapshot.status.value not in LIVE_EXCLUDED:
        return False  # two live subscriptions: an operator's call, as in the webhook processor
    upsert_subscription(
        conn,
        tenant_id=tenant_id,
        snapshot=snapshot,
        applied_at=datetime.now(UTC),
        applied_by=f"reconcile:{ctx.job_id}",
    )
    _audit(
        conn,
        tenant_id,
        ctx=ctx,
        resource_type="subscription",
        resource_id=snapshot.id,
        before=_document(local),
        after=_document(remote),
    )
    if other_live is None:
        _apply_tenant_billing(conn, ctx, tenant_id, snapshot)
    return True


def _apply_tenant_billing(
    conn: Connection, ctx: JobContext, tenant_id: UUID, s: SubscriptionSnapshot
) -> None:
    row = conn.execute(
        "SELECT plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at FROM tenants FOR UPDATE"
    ).fetchone()
    if row is None:
        return
    previous = TenantBilling(
        plan=row["plan"],
        billing_status=row["billing_status"],
        access_level=AccessLevel(row["access_level"]),
        trial_ends_at=row["trial_ends_at"],
        grace_ends_at=row["billing_grace_ends_at"],
    )
    billing = tenant_billing_for(
        s.state(), previous=previous, now=datetime.now(UTC), grace_period=get_billing_settings().grace_period
    )
    if billing == previous:
        return
    conn.execute(
        "UPDATE tenants SET plan = %s, billing_status = %s, access_level = %s, trial_ends_at = %s,"
        " billing_grace_ends_at = %s WHERE id = %s",
        (
            billing.plan,
            billing.billing_status,
            billing.access_level.value,
            billing.trial_ends_at,
            billing.grace_ends_at,
            tenant_id,
        ),
    )
    _audit(
        conn,
        tenant_id,
        ctx=ctx,
        resource_type="tenant",
        resource_id=str(tenant_id),
        before=_document(asdict(previous)),
        after=_document(asdict(billing)),
    )


def _audit(
    conn: Connection,
    tenant_id: UUID,
    *,
    ctx: JobContext,
    resource_type: str,
    resource_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    conn.execute(
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, before, after,"
        " request_id) VALUES (%s, 'system', 'billing.reconciled', %s, %s, %s, %s, %s)",
        (
            tenant_id,
            resource_type,
            resource_id,
            None if before is None else Jsonb(before),
            None if after is None else Jsonb(after),
            f"job:{ctx.job_id}",
        ),
    )


def _document(values: Any) -> dict[str, Any] | None:
    if values is None:
        return None
    return {
        key: value.isoformat()
        if isinstance(value, datetime)
        else value.value
        if isinstance(value, AccessLevel)
        else value
        for key, value in dict(values).items()
    }
