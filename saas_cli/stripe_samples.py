"""Realistic Stripe events (pinned API version shapes) for `saas webhooks send`, the tests and benchmarks.

Not part of any Lambda asset: the functions only read events, these build and sign them.

The objects carry the fields Stripe sends and this code reads, laid out as in Stripe's own fixtures
(stripe/openapi ``fixtures3.json``): the subscription's period on its item, the invoice's subscription
under ``parent.subscription_details``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Final

from saascore.billing.events import CHECKOUT_EVENTS, CUSTOMER_EVENTS, INVOICE_EVENTS, SUBSCRIPTION_EVENTS
from saascore.billing.plans import PLANS
from saascore.billing.stripe_api import STRIPE_API_VERSION

Json = dict[str, Any]
MONTH: Final = 30 * 24 * 3600
PRICE_AMOUNTS: Final = {"starter_monthly": 2_000, "pro_monthly": 9_900}
STATUS_FOR_EVENT: Final = {
    "customer.subscription.deleted": "canceled",
    "customer.subscription.paused": "paused",
    "customer.subscription.trial_will_end": "trialing",
}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def price(lookup_key: str) -> Json:
    plan_key = lookup_key.partition("_")[0]
    return {
        "id": f"price_{lookup_key}",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": "usd",
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": {},
        "nickname": PLANS[plan_key].name if plan_key in PLANS else None,
        "product": f"prod_{plan_key}",
        "recurring": {"interval": "month", "interval_count": 1, "meter": None, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": PRICE_AMOUNTS.get(lookup_key, 1_000),
        "unit_amount_decimal": str(PRICE_AMOUNTS.get(lookup_key, 1_000)),
    }


def subscription(
    *,
    customer: str,
    tenant_id: str | None = None,
    subscription_id: str | None = None,
    status: str = "active",
    lookup_key: str = "starter_monthly",
    created: int | None = None,
    trial_end: int | None = None,
    cancellation_reason: str | None = None,
) -> Json:
    sub_id = subscription_id or new_id("sub")
    start = created if created is not None else int(time.time())
    canceled = status == "canceled"
    return {
        "id": sub_id,
        "object": "subscription",
        "billing_cycle_anchor": start,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": start if canceled else None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": cancellation_reason},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": customer,
        "ended_at": start if canceled else None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id[4:18]}",
                    "object": "subscription_item",
                    "created": start,
                    "current_period_start": start,
                    "current_period_end": start + MONTH,
                    "metadata": {},
                    "price": price(lookup_key),
                    "quantity": 1,
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {} if tenant_id is None else {"tenant_id": tenant_id},
        "pause_collection": None,
        "start_date": start,
        "status": status,
        "trial_end": trial_end,
        "trial_start": start if trial_end is not None else None,
    }


def invoice(
    *,
    customer: str,
    subscription_id: str | None,
    status: str = "paid",
    amount_due: int = 2_000,
    subscription_metadata: Json | None = None,
) -> Json:
    invoice_id = new_id("in")
    now = int(time.time())
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount_due,
        "amount_paid": amount_due if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else amount_due,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "usd",
        "customer": customer,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if status == "paid" else now + 3 * 24 * 3600,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription_metadata or {}),
                "subscription": subscription_id,
            },
        },
        "period_end": now,
        "period_start": now - MONTH,
        "status": status,
        "total": amount_due,
    }


def checkout_session(*, customer: str, tenant_id: str, subscription_id: str | None) -> Json:
    session_id = new_id("cs_test")
    return {
        "id": session_id,
        "object": "checkout.session",
        "client_reference_id": tenant_id,
        "created": int(time.time()),
        "customer": customer,
        "livemode": False,
        "metadata": {"tenant_id": tenant_id},
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
        "subscription": subscription_id,
        "url": None,
    }


def customer_object(*, customer: str, tenant_id: str, email: str | None = "billing@example.com") -> Json:
    return {
        "id": customer,
        "object": "customer",
        "created": int(time.time()),
        "email": email,
        "livemode": False,
        "metadata": {"tenant_id": tenant_id},
        "name": None,
    }


def event(event_type: str, obj: Json, *, created: int | None = None, event_id: str | None = None) -> Json:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj, "previous_attributes": {}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def build_event(
    event_type: str,
    *,
    customer: str,
    tenant_id: str,
    subscription_id: str | None = None,
    lookup_key: str = "starter_monthly",
    status: str | None = None,
    created: int | None = None,
) -> Json:
    """Any supported event type about ``customer``/``tenant_id`` (used by `saas webhooks send`)."""
    if event_type in SUBSCRIPTION_EVENTS:
        obj = subscription(
            customer=customer,
            tenant_id=tenant_id,
            subscription_id=subscription_id,
            status=status or STATUS_FOR_EVENT.get(event_type, "active"),
            lookup_key=lookup_key,
            created=created,
            trial_end=int(time.time()) + 3 * 24 * 3600 if event_type.endswith("trial_will_end") else None,
        )
    elif event_type in INVOICE_EVENTS:
        failed = event_type in ("invoice.payment_failed", "invoice.payment_action_required")
        # Stripe copies the subscription's metadata (our tenant id) onto the invoices it generates.
        obj = invoice(
            customer=customer,
            subscription_id=subscription_id,
            status="open" if failed else "paid",
            subscription_metadata=None if subscription_id is None else {"tenant_id": tenant_id},
        )
    elif event_type in CHECKOUT_EVENTS:
        obj = checkout_session(customer=customer, tenant_id=tenant_id, subscription_id=subscription_id)
    elif event_type in CUSTOMER_EVENTS:
        obj = customer_object(customer=customer, tenant_id=tenant_id)
    else:
        obj = {"id": new_id("obj"), "object": event_type.partition(".")[0], "customer": customer}
    return event(event_type, obj, created=created)


def signature_header(payload: str, secrets_: list[str], *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header with one v1 signature per secret (Stripe signs with every live secret)."""
    import stripe

    signed_at = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={signed_at}"]
    for secret in secrets_:
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=signed_at)
        parts.append(header.split(",", 1)[1])
    return ",".join(parts)
