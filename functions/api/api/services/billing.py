"""Billing operations the API offers: checkout, portal, subscription read, plan change with proration.

Each runs inside the request's tenant transaction. The tenant row is locked first, so concurrent
requests of one tenant serialise; the Stripe customer is created at most once per tenant (the lock, a
UNIQUE (tenant_id) constraint and a Stripe idempotency key derived from the tenant id). A plan change
modifies the live subscription's item with proration and never creates a second subscription. The
tenant's plan itself changes only when the resulting webhook arrives (Stripe is the source of truth).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from api.exceptions import (
    AlreadySubscribedError,
    FieldValidationError,
    NoCustomerError,
    NoSubscriptionError,
    NotFoundError,
    PaymentProviderError,
    PriceNotFoundError,
    SamePlanError,
)
from api.repositories import billing as repo
from api.schemas.billing import BillingOverview, PlanChangePreview, ProrationLine, SubscriptionInfo
from saascore.billing.events import TENANT_METADATA_KEY
from saascore.billing.plans import Plan, plan_for
from saascore.billing.settings import BillingSettings
from saascore.billing.state import effective_access_level
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.connection import Connection
from saascore.exceptions import ConfigurationError

if TYPE_CHECKING:
    import stripe
    from stripe import StripeClient as StripeClient  # noqa: PLC0414 (re-exported for the routes)
    from stripe.params import InvoiceCreatePreviewParams, SubscriptionUpdateParams
else:
    # FastAPI resolves the routes' annotations at startup; importing stripe (≈2 s) waits for the first call.
    StripeClient = object

PRICE_CACHE_SECONDS: Final = 300
_price_cache: dict[str, tuple[float, str]] = {}
_clock = time.monotonic  # tests substitute their own clock


@dataclass(frozen=True, slots=True)
class LiveSubscription:
    stripe_subscription_id: str
    stripe_item_id: str | None
    plan: str
    status: str


def redirect_url(url: str, public_origin: str | None) -> str:
    """A configured redirect URL; a path is resolved against the viewer's origin, which is how a deploy
    without a custom domain learns its CloudFront domain without a second deploy."""
    if not url.startswith("/"):
        return url
    if public_origin is None:
        raise ConfigurationError(
            "billing redirect URLs are paths and the request came without a viewer host (not through"
            " the edge); configure public_base_url"
        )
    return public_origin + url


def stripe_client() -> StripeClient:
    return get_stripe_client()


def _provider_error(exc: Exception) -> PaymentProviderError:
    return PaymentProviderError(f"Stripe request failed: {type(exc).__name__}")


def price_id_for(client: stripe.StripeClient, plan: Plan) -> str:
    """The active Stripe price behind a plan's lookup key (cached for a few minutes per container)."""
    import stripe

    key = plan.price_lookup_key
    if key is None:
        raise PriceNotFoundError(f"plan {plan.key!r} is not sold through Stripe")
    cached = _price_cache.get(key)
    if cached is not None and _clock() - cached[0] < PRICE_CACHE_SECONDS:
        return cached[1]
    try:
        prices = client.v1.prices.list(params={"lookup_keys": [key], "active": True, "limit": 1})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    if not prices.data:
        raise PriceNotFoundError(f"no active Stripe price has the lookup key {key!r}")
    _price_cache[key] = (_clock(), prices.data[0].id)
    return prices.data[0].id


def overview(conn: Connection, *, tenant_id: uuid.UUID, plan: str) -> BillingOverview:
    """The cached billing state, as the last webhook left it."""
    tenant = repo.billing_state(conn, tenant_id=tenant_id)
    if tenant is None:
        raise NotFoundError("tenant not found")
    subscription = repo.latest_subscription(conn, tenant_id=tenant_id)
    entitlements = plan_for(plan).entitlements
    return BillingOverview(
        plan=plan,
        billing_status=tenant["billing_status"],
        access_level=effective_access_level(
            tenant["access_level"], tenant["billing_grace_ends_at"], datetime.now(UTC)
        ).value,
        trial_ends_at=tenant["trial_ends_at"],
        grace_ends_at=tenant["billing_grace_ends_at"],
        entitlements={
            "max_projects": entitlements.max_projects,
            "max_members": entitlements.max_members,
            "requests_per_minute": entitlements.requests_per_minute,
            "usage_soft_limit": entitlements.usage_soft_limit,
            "usage_hard_limit": entitlements.usage_hard_limit,
            "features": sorted(entitlements.features),
        },
        subscription=None if subscription is None else SubscriptionInfo(**subscription),
    )


def _lock_tenant(conn: Connection, tenant_id: uuid.UUID) -> dict[str, Any]:
    tenant = repo.lock_tenant(conn, tenant_id=tenant_id)
    if tenant is None:
        raise NoCustomerError("tenant not found")
    return tenant


def _live_subscription(conn: Connection, tenant_id: uuid.UUID) -> LiveSubscription | None:
    row = repo.live_subscription(conn, tenant_id=tenant_id)
    return None if row is None else LiveSubscription(**row)


def _ensure_customer(conn: Connection, client: stripe.StripeClient, tenant: dict[str, Any]) -> str:
    """The tenant's Stripe customer, created exactly once (call with the tenant row locked)."""
    import stripe

    tenant_id: uuid.UUID = tenant["id"]
    existing = repo.customer_id(conn, tenant_id=tenant_id)
    if existing is not None:
        return existing
    try:
        customer = client.v1.customers.create(
            params={
                "name": tenant["name"],
                "metadata": {TENANT_METADATA_KEY: str(tenant_id), "slug": tenant["slug"]},
            },
            options={"idempotency_key": f"tenant-customer-{tenant_id}"},
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    repo.insert_customer(
        conn, tenant_id=tenant_id, stripe_customer_id=customer.id, livemode=bool(customer.livemode)
    )
    return customer.id


def start_checkout(
    conn: Connection,
    client: stripe.StripeClient,
    settings: BillingSettings,
    *,
    tenant_id: uuid.UUID,
    plan: Plan,
    public_origin: str | None,
) -> tuple[str, str]:
    """A Stripe Checkout session for ``plan``: (session id, url). Refused when already subscribed."""
    import stripe

    success_url = redirect_url(settings.checkout_success_url, public_origin)
    cancel_url = redirect_url(settings.checkout_cancel_url, public_origin)
    tenant = _lock_tenant(conn, tenant_id)
    if _live_subscription(conn, tenant_id) is not None:
        raise AlreadySubscribedError("the tenant already has a subscription; change its plan instead")
    customer = _ensure_customer(conn, client, tenant)
    price = price_id_for(client, plan)
    metadata = {TENANT_METADATA_KEY: str(tenant_id)}
    try:
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer,
                "client_reference_id": str(tenant_id),
                "line_items": [{"price": price, "quantity": 1}],
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
                "success_url": success_url,
                "cancel_url": cancel_url,
            }
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return session.id, str(session.url)


def open_portal(
    conn: Connection,
    client: stripe.StripeClient,
    settings: BillingSettings,
    *,
    tenant_id: uuid.UUID,
    public_origin: str | None,
) -> str:
    import stripe

    return_url = redirect_url(settings.portal_return_url, public_origin)
    customer = repo.customer_id(conn, tenant_id=tenant_id)
    if customer is None:
        raise NoCustomerError("the tenant has no billing account yet; start a checkout first")
    try:
        session = client.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return str(session.url)


def _changeable(conn: Connection, tenant_id: uuid.UUID, plan: Plan) -> tuple[LiveSubscription, str]:
    """The live subscription and its plan item, or why the plan cannot change."""
    subscription = _live_subscription(conn, tenant_id)
    if subscription is None or subscription.stripe_item_id is None:
        raise NoSubscriptionError("the tenant has no subscription to change; start a checkout")
    if subscription.plan == plan.key:
        raise SamePlanError(f"the subscription is already on {plan.key}")
    return subscription, subscription.stripe_item_id


def preview_plan_change(
    conn: Connection,
    client: stripe.StripeClient,
    *,
    tenant_id: uuid.UUID,
    plan: Plan,
    now: datetime | None = None,
) -> PlanChangePreview:
    """What the change would cost now (Stripe's upcoming-invoice preview with proration)."""
    import stripe

    subscription, item_id = _changeable(conn, tenant_id, plan)
    price = price_id_for(client, plan)
    proration_date = int((now or datetime.now(UTC)).timestamp())
    params: InvoiceCreatePreviewParams = {
        "subscription": subscription.stripe_subscription_id,
        "subscription_details": {
            "items": [{"id": item_id, "price": price}],
            "proration_behavior": "create_prorations",
            "proration_date": proration_date,
        },
    }
    try:
        invoice = client.v1.invoices.create_preview(params=params)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return PlanChangePreview(
        plan=plan.key,
        amount_due=invoice.amount_due,
        currency=invoice.currency,
        proration_date=proration_date,
        lines=[
            ProrationLine(description=line.description, amount=line.amount, currency=line.currency)
            for line in invoice.lines.data
        ],
    )


def _check_proration_date(
    client: stripe.StripeClient, subscription_id: str, item_id: str, proration_date: int
) -> None:
    """Stripe refuses a proration date outside the item's current period: say so as a 422, not a 502."""
    import stripe

    try:
        live = client.v1.subscriptions.retrieve(subscription_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    item = next((item for item in live["items"]["data"] if item["id"] == item_id), None)
    if item is None:
        raise NoSubscriptionError("the subscription's plan item changed; preview the change again")
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    if not start <= proration_date <= end:
        raise FieldValidationError(
            f"proration_date must lie in the subscription's current period, {start}..{end}"
            " (use the preview's proration_date)",
            pointer="#/proration_date",
        )


def change_plan(
    conn: Connection,
    client: stripe.StripeClient,
    *,
    tenant_id: uuid.UUID,
    plan: Plan,
    proration_date: int | None = None,
) -> LiveSubscription:
    """Move the live subscription's item to ``plan``'s price, prorated (same subscription, same customer)."""
    import stripe

    _lock_tenant(conn, tenant_id)
    subscription, item_id = _changeable(conn, tenant_id, plan)
    if proration_date is not None:
        _check_proration_date(client, subscription.stripe_subscription_id, item_id, proration_date)
    price = price_id_for(client, plan)
    params: SubscriptionUpdateParams = {
        "items": [{"id": item_id, "price": price}],
        "proration_behavior": "create_prorations",
        "metadata": {TENANT_METADATA_KEY: str(tenant_id)},
    }
    if proration_date is not None:
        params["proration_date"] = proration_date  # the preview's, so the charge equals what was shown
    try:
        updated = client.v1.subscriptions.update(
            subscription.stripe_subscription_id,
            params=params,
            options={
                "idempotency_key": f"plan-change-{subscription.stripe_subscription_id}-{price}-{proration_date}"
            },
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return LiveSubscription(
        stripe_subscription_id=updated.id,
        stripe_item_id=subscription.stripe_item_id,
        plan=plan.key,
        status=str(updated.status),
    )
