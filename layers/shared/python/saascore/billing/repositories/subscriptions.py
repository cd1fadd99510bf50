"""The one write of a Stripe subscription's local copy, used by the webhook processor and reconciliation."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from saascore.billing.events import SubscriptionSnapshot
from saascore.billing.state import plan_key_for
from saascore.db.connection import Connection

UPSERT_SQL = (
    "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan,"
    " price_lookup_key, stripe_price_id, stripe_item_id, current_period_end, trial_end, cancel_at_period_end,"
    " canceled_at, cancellation_reason, stripe_created, last_event_created, last_event_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (stripe_subscription_id) DO UPDATE SET status = EXCLUDED.status, plan = EXCLUDED.plan,"
    " price_lookup_key = EXCLUDED.price_lookup_key, stripe_price_id = EXCLUDED.stripe_price_id,"
    " stripe_item_id = EXCLUDED.stripe_item_id, current_period_end = EXCLUDED.current_period_end,"
    " trial_end = EXCLUDED.trial_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end,"
    " canceled_at = EXCLUDED.canceled_at, cancellation_reason = EXCLUDED.cancellation_reason,"
    " last_event_created = EXCLUDED.last_event_created, last_event_id = EXCLUDED.last_event_id"
)


def upsert_subscription(
    conn: Connection,
    *,
    tenant_id: UUID,
    snapshot: SubscriptionSnapshot,
    applied_at: datetime,
    applied_by: str,
) -> None:
    """Write ``snapshot`` as the tenant's copy of the subscription; its plan follows the price lookup key.

    ``applied_at`` is the time of the state written (the event's ``created``, or the read from Stripe):
    an event older than it is stale from now on. ``applied_by`` names what wrote it (event or job id).
    """
    conn.execute(
        UPSERT_SQL,
        (
            tenant_id,
            snapshot.id,
            snapshot.customer_id,
            snapshot.status.value,
            plan_key_for(snapshot.price_lookup_key),
            snapshot.price_lookup_key,
            snapshot.price_id,
            snapshot.item_id,
            snapshot.current_period_end,
            snapshot.trial_end,
            snapshot.cancel_at_period_end,
            snapshot.canceled_at,
            snapshot.cancellation_reason,
            snapshot.created,
            applied_at,
            applied_by,
        ),
    )
