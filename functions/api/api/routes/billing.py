"""/api/v1/billing: Stripe Checkout and portal, the tenant's subscription, plan changes with proration.

The tenant's plan and access change only when Stripe's webhook arrives (``functions/webhooks``); these
routes start those changes in Stripe and read the cached state. Stripe calls run inside the request's
tenant transaction, with the tenant row locked, so concurrent requests cannot create a second customer
or subscription.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from api.deps import ActorDep, IdempotencyDep, PublicOriginDep, RequirePermission, TenantTx
from api.schemas.billing import (
    BillingOverview,
    CheckoutSession,
    PlanChangePreview,
    PlanChangeRequest,
    PlanChangeResult,
    PlanRequest,
    PortalSession,
)
from api.services import audit, billing
from api.services.access import Access
from saascore.billing.plans import plan_for
from saascore.billing.settings import BillingSettings, get_billing_settings

router = APIRouter(
    prefix="/api/v1/billing",
    tags=["billing"],
    responses={502: {"description": "Stripe refused or could not be reached; nothing changed"}},
)

CanRead = Annotated[Access, Depends(RequirePermission("billing:read"))]
CanManage = Annotated[Access, Depends(RequirePermission("billing:manage"))]


async def billing_settings() -> BillingSettings:
    return get_billing_settings()


async def stripe_client() -> billing.StripeClient:
    return billing.stripe_client()


SettingsDep = Annotated[BillingSettings, Depends(billing_settings)]
StripeDep = Annotated[billing.StripeClient, Depends(stripe_client)]


@router.get("/subscription", response_model=BillingOverview)
async def get_subscription(conn: TenantTx, access: CanRead) -> BillingOverview:
    return billing.overview(conn, tenant_id=access.principal.tenant_id, plan=access.plan)


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
    public_origin: PublicOriginDep,
) -> Response:
    def produce() -> CheckoutSession:
        session_id, url = billing.start_checkout(
            conn,
            client,
            settings,
            tenant_id=access.principal.tenant_id,
            plan=plan_for(body.plan),
            public_origin=public_origin,
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
    conn: TenantTx,
    access: CanManage,
    client: StripeDep,
    settings: SettingsDep,
    public_origin: PublicOriginDep,
) -> PortalSession:
    url = billing.open_portal(
        conn, client, settings, tenant_id=access.principal.tenant_id, public_origin=public_origin
    )
    return PortalSession(url=url)


@router.post("/plan-change/preview", response_model=PlanChangePreview)
async def preview_plan_change(
    body: PlanRequest, conn: TenantTx, access: CanManage, client: StripeDep
) -> PlanChangePreview:
    return billing.preview_plan_change(
        conn, client, tenant_id=access.principal.tenant_id, plan=plan_for(body.plan)
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
        changed = billing.change_plan(
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
