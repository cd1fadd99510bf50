"""/api/v1/billing: Stripe Checkout and portal, the tenant's subscription, plan changes with proration.

The tenant's plan and access change only when Stripe's webhook arrives (``functions/webhooks``); these
routes start those changes in Stripe and read the cached state. Stripe calls run inside the request's
tenant transaction, with the tenant row locked, so concurrent requests cannot create a second customer
or subscription.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.exceptions import ApiError, ConflictError, NotFoundError
from api.schemas.common import RequestModel
from api.services import audit
from api.services.access import Access
from saascore.billing import errors, service
from saascore.billing.plans import plan_for
from saascore.billing.settings import BillingSettings, get_billing_settings
from saascore.billing.state import effective_access_level
from saascore.billing.stripe_api import get_stripe_client

if TYPE_CHECKING:
    from stripe import StripeClient
else:
    # FastAPI resolves annotations at startup; importing stripe (≈2 s) is deferred to the first billing call.
    StripeClient = object

router = APIRouter(
    prefix="/api/v1/billing",
    tags=["billing"],
    responses={502: {"description": "Stripe refused or could not be reached; nothing changed"}},
)

CanRead = Annotated[Access, Depends(RequirePermission("billing:read"))]
CanManage = Annotated[Access, Depends(RequirePermission("billing:manage"))]


async def billing_settings() -> BillingSettings:
    return get_billing_settings()


SettingsDep = Annotated[BillingSettings, Depends(billing_settings)]
# The plans sold through Stripe (a test keeps this equal to PLANS); going back to Free is a cancellation,
# done in the billing portal.
PaidPlan = Literal["starter", "pro"]


async def stripe_client() -> StripeClient:
    return get_stripe_client()


StripeDep = Annotated[StripeClient, Depends(stripe_client)]


class AlreadySubscribedProblem(ConflictError):
    slug, title = "billing-already-subscribed", "The tenant already has a subscription"


class NoSubscriptionProblem(ConflictError):
    slug, title = "billing-no-subscription", "The tenant has no subscription"


class SamePlanProblem(ConflictError):
    slug, title = "billing-same-plan", "The subscription is already on this plan"


class NoCustomerProblem(NotFoundError):
    slug, title = "billing-no-customer", "The tenant has no billing account yet"


class PaymentProviderProblem(ApiError):
    status, slug, title = 502, "billing-provider-error", "The payment provider could not complete the request"


PROBLEMS: dict[type[errors.BillingError], type[ApiError]] = {
    errors.AlreadySubscribedError: AlreadySubscribedProblem,
    errors.NoSubscriptionError: NoSubscriptionProblem,
    errors.SamePlanError: SamePlanProblem,
    errors.NoCustomerError: NoCustomerProblem,
    errors.PriceNotFoundError: PaymentProviderProblem,
    errors.PaymentProviderError: PaymentProviderProblem,
}


@contextmanager
def billing_problems() -> Iterator[None]:
    try:
        yield
    except errors.BillingError as exc:
        raise PROBLEMS[type(exc)](str(exc)) from exc


class PlanRequest(RequestModel):
    plan: PaidPlan


class PlanChangeRequest(PlanRequest):
    proration_date: int | None = Field(
        default=None, ge=0, description="The preview's proration_date, so the charge equals the preview"
    )


class CheckoutSession(BaseModel):
    id: str
    url: str


class PortalSession(BaseModel):
    url: str


class SubscriptionInfo(BaseModel):
    id: str
    status: str
    plan: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    latest_invoice_status: str | None


class BillingOverview(BaseModel):
    plan: str
    billing_status: str
    access_level: str
    trial_ends_at: datetime | None
    grace_ends_at: datetime | None
    entitlements: dict[str, Any]
    subscription: SubscriptionInfo | None


class ProrationLine(BaseModel):
    description: str | None
    amount: int
    currency: str


class PlanChangePreview(BaseModel):
    plan: str
    amount_due: int
    currency: str
    proration_date: int
    lines: list[ProrationLine]


class PlanChangeResult(BaseModel):
    subscription_id: str
    plan: str
    status: str


@router.get("/subscription", response_model=BillingOverview)
async def get_subscription(conn: TenantTx, access: CanRead) -> BillingOverview:
    tenant_id = access.principal.tenant_id
    tenant = conn.execute(
        "SELECT plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at FROM tenants WHERE id = %s",
        (tenant_id,),
    ).fetchone()
    if tenant is None:
        raise NotFoundError("tenant not found")
    row = conn.execute(
        "SELECT stripe_subscription_id AS id, status, plan, current_period_end, cancel_at_period_end,"
        " latest_invoice_status FROM subscriptions WHERE tenant_id = %s"
        " ORDER BY (status NOT IN ('canceled', 'incomplete_expired')) DESC, stripe_created DESC LIMIT 1",
        (tenant_id,),
    ).fetchone()
    entitlements = plan_for(access.plan).entitlements
    return BillingOverview(
        plan=access.plan,
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
        subscription=None if row is None else SubscriptionInfo(**row),
    )


@router.post("/checkout-session", status_code=201, response_model=CheckoutSession)
async def create_checkout_session(
    *,
    body: PlanRequest,
    conn: TenantTx,
    access: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
    client: StripeDep,
    settings: SettingsDep,
) -> Response:
    def produce() -> CheckoutSession:
        with billing_problems():
            session_id, url = service.start_checkout(
                conn, client, settings, tenant_id=access.principal.tenant_id, plan=plan_for(body.plan)
            )
        audit.record(
            conn,
            actor,
            action="billing.checkout_started",
            resource_type="billing",
            resource_id=session_id,
            after={"plan": body.plan},
        )
        return CheckoutSession(id=session_id, url=url)

    return idem.respond(produce, status_code=201)


@router.post("/portal-session", status_code=201, response_model=PortalSession)
async def create_portal_session(
    conn: TenantTx, access: CanManage, client: StripeDep, settings: SettingsDep
) -> PortalSession:
    with billing_problems():
        url = service.open_portal(conn, client, settings, tenant_id=access.principal.tenant_id)
    return PortalSession(url=url)


@router.post("/plan-change/preview", response_model=PlanChangePreview)
async def preview_plan_change(
    body: PlanRequest, conn: TenantTx, access: CanManage, client: StripeDep
) -> PlanChangePreview:
    with billing_problems():
        preview = service.preview_plan_change(
            conn, client, tenant_id=access.principal.tenant_id, plan=plan_for(body.plan)
        )
    return PlanChangePreview(
        plan=body.plan,
        amount_due=preview.amount_due,
        currency=preview.currency,
        proration_date=preview.proration_date,
        lines=[ProrationLine(**line) for line in preview.lines],
    )


@router.post("/plan-change", response_model=PlanChangeResult)
async def change_plan(
    *,
    body: PlanChangeRequest,
    conn: TenantTx,
    access: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
    client: StripeDep,
) -> Response:
    def produce() -> PlanChangeResult:
        with billing_problems():
            changed = service.change_plan(
                conn,
                client,
                tenant_id=access.principal.tenant_id,
                plan=plan_for(body.plan),
                proration_date=body.proration_date,
            )
        audit.record(
            conn,
            actor,
            action="billing.plan_change_requested",
            resource_type="subscription",
            resource_id=changed.stripe_subscription_id,
            before={"plan": access.plan},
            after={"plan": body.plan},
        )
        return PlanChangeResult(
            subscription_id=changed.stripe_subscription_id, plan=body.plan, status=changed.status
        )

    return idem.respond(produce)
