"""Request and response models of /api/v1/billing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel

# The plans sold through Stripe (a test keeps this equal to PLANS); going back to Free is a cancellation,
# done in the billing portal.
PaidPlan = Literal["starter", "pro"]


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
