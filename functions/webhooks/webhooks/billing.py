"""Effects of each handled Stripe event on the tenant's billing state (inside the event's transaction).

Each handler gets the locked tenant summary and returns the outcome recorded with the event: "applied",
"stale" (older than the state already applied), "ignored" (nothing to do) or "conflict" (a second live
subscription for the tenant: refused, logged and left for an operator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from saascore.billing.events import (
    CHECKOUT_EVENTS,
    CUSTOMER_EVENTS,
    INVOICE_EVENTS,
    SUBSCRIPTION_EVENTS,
    InvoiceSnapshot,
    StripeEvent,
    SubscriptionSnapshot,
)
from saascore.billing.repositories.subscriptions import upsert_subscription
from saascore.billing.state import (
    TERMINAL_STATUSES,
    TenantBilling,
    customer_deleted,
    is_stale,
    next_status,
    tenant_billing_for,
)
from saascore.db.connection import Connection
from saascore.events import Actor, record_event
from saascore.jobs import enqueue_job
from saascore.lifecycle.transitions import follow_billing
from saascore.observability import get_logger
from webhooks.repositories import customers, subscriptions, tenants

logger = get_logger("webhooks-processor")

EMAIL_JOB = "send_email"
SubscriptionFetcher = Callable[[str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class EventContext:
    conn: Connection
    tenant_id: UUID
    event: StripeEvent
    tenant: TenantBilling
    now: datetime
    grace_period: timedelta
    fetch_subscription: SubscriptionFetcher | None = None  # set when re-fetching from Stripe is configured


def change_tenant_billing(ctx: EventContext, billing: TenantBilling) -> None:
    """Store and audit the tenant's new billing summary (plan limits and the next session's plan claim);
    a change of access level places or lifts the lifecycle's billing hold (decision 0110)."""
    if billing == ctx.tenant:
        return
    tenants.update_tenant_billing(
        ctx.conn,
        tenant_id=ctx.tenant_id,
        billing=billing,
        event_id=ctx.event.id,
        before=tenants.billing_document(ctx.tenant),
    )
    if billing.access_level is not ctx.tenant.access_level:
        follow_billing(ctx.conn, tenant_id=ctx.tenant_id, access=billing.access_level, event_id=ctx.event.id)
    if billing.billing_status != ctx.tenant.billing_status:
        record_event(
            ctx.conn,
            tenant_id=ctx.tenant_id,
            type="billing.status_changed",
            data={
                "billing_status": billing.billing_status,
                "previous_billing_status": ctx.tenant.billing_status,
                "plan": billing.plan,
                "access_level": billing.access_level,
                "stripe_event_id": ctx.event.id,
            },
            actor=Actor("stripe"),
        )


def apply_subscription(ctx: EventContext, snapshot: SubscriptionSnapshot) -> str:
    own, other_live = subscriptions.subscriptions_for_update(
        ctx.conn, tenant_id=ctx.tenant_id, subscription_id=snapshot.id
    )
    if own is not None and is_stale(ctx.event.created, own["last_event_created"]):
        return "stale"
    status = next_status(None if own is None else own["status"], snapshot.status)
    if status != snapshot.status:
        # A canceled subscription never comes back: whatever arrives after it is out of order.
        return "stale"
    if status not in TERMINAL_STATUSES and other_live is not None:
        logger.error(
            "second live subscription for a tenant refused",
            extra={"tenant_id": str(ctx.tenant_id), "subscription": snapshot.id, "live": other_live},
        )
        return "conflict"
    upsert_subscription(
        ctx.conn,
        tenant_id=ctx.tenant_id,
        snapshot=snapshot,
        applied_at=ctx.event.created,
        applied_by=ctx.event.id,
    )
    if other_live is None:
        # With no other live subscription, this one governs the tenant's plan and access.
        billing = tenant_billing_for(
            snapshot.state(), previous=ctx.tenant, now=ctx.now, grace_period=ctx.grace_period
        )
        change_tenant_billing(ctx, billing)
    return "applied"


def on_subscription(ctx: EventContext) -> str:
    obj = dict(ctx.event.object)
    if ctx.fetch_subscription is not None:
        # The freshest state from Stripe, applied with this event's time: order stops mattering.
        obj = ctx.fetch_subscription(str(obj["id"]))
    outcome = apply_subscription(ctx, SubscriptionSnapshot.parse(obj))
    if ctx.event.type == "customer.subscription.trial_will_end" and outcome == "applied":
        notify(ctx, "trial_will_end", {"trial_end": obj.get("trial_end"), "subscription": obj.get("id")})
    return outcome


def on_checkout_completed(ctx: EventContext) -> str:
    """The customer is linked by the dispatcher (tenant id in the session's metadata); the state comes
    with the customer.subscription.* events that accompany checkout, or from Stripe when re-fetching."""
    subscription = ctx.event.object.get("subscription")
    if isinstance(subscription, str) and ctx.fetch_subscription is not None:
        return apply_subscription(ctx, SubscriptionSnapshot.parse(ctx.fetch_subscription(subscription)))
    return "applied"


def on_invoice(ctx: EventContext) -> str:
    invoice = InvoiceSnapshot.parse(ctx.event.object)
    kind = ctx.event.type.removeprefix("invoice.")
    if invoice.subscription_id is not None:
        subscriptions.set_latest_invoice_status(
            ctx.conn, subscription_id=invoice.subscription_id, status=kind
        )
    if kind in ("payment_failed", "payment_action_required"):
        notify(
            ctx,
            kind,
            {
                "invoice": invoice.id,
                "amount_due": invoice.amount_due,
                "currency": invoice.currency,
                "attempt_count": invoice.attempt_count,
                "hosted_invoice_url": invoice.hosted_invoice_url,
                "next_payment_attempt": None
                if invoice.next_payment_attempt is None
                else invoice.next_payment_attempt.isoformat(),
            },
        )
    tenants.audit(
        ctx.conn,
        tenant_id=ctx.tenant_id,
        action=f"billing.invoice.{kind}",
        resource_type="invoice",
        resource_id=invoice.id,
        event_id=ctx.event.id,
        after={"amount_due": invoice.amount_due, "currency": invoice.currency, "status": invoice.status},
    )
    return "applied"


def on_customer(ctx: EventContext) -> str:
    customer_id = ctx.event.object_id
    if customer_id is None:
        return "ignored"
    known, last_applied = customers.customer_last_event(ctx.conn, customer_id=customer_id)
    if not known:
        return "ignored"
    if is_stale(ctx.event.created, last_applied):
        return "stale"
    deleted = ctx.event.type == "customer.deleted"
    email = ctx.event.object.get("email")
    customers.update_customer(
        ctx.conn, customer_id=customer_id, email=email, event_created=ctx.event.created, deleted=deleted
    )
    if deleted:
        change_tenant_billing(ctx, customer_deleted(ctx.tenant))
    return "applied"


def notify(ctx: EventContext, template: str, data: dict[str, Any]) -> None:
    """Queue the tenant's billing email (dunning, trial ending) with the event's commit, at most once."""
    enqueue_job(
        ctx.conn,
        tenant_id=ctx.tenant_id,
        job_type=EMAIL_JOB,
        payload={"template": f"billing_{template}", "to": "billing_contacts", "data": data},
        dedup_key=f"stripe:{ctx.event.id}",
    )


HANDLERS: dict[str, Callable[[EventContext], str]] = {
    **dict.fromkeys(CHECKOUT_EVENTS, on_checkout_completed),
    **dict.fromkeys(SUBSCRIPTION_EVENTS, on_subscription),
    **dict.fromkeys(INVOICE_EVENTS, on_invoice),
    **dict.fromkeys(CUSTOMER_EVENTS, on_customer),
}
