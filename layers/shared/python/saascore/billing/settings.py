"""Billing settings shared by the billing API routes and the webhook functions."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field

from saascore.settings import BaseServiceSettings


class BillingSettings(BaseServiceSettings):
    # A secret reference (`secretsmanager:name#key`, `ssm:name`) or, locally, the key itself.
    stripe_api_key: str | None = Field(default=None, validation_alias="STRIPE_API_KEY")
    # Only set to reach a stand-in for Stripe (the tests' stub); production talks to api.stripe.com.
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")
    stripe_max_network_retries: int = Field(
        default=2, ge=0, le=5, validation_alias="STRIPE_MAX_NETWORK_RETRIES"
    )
    grace_period_days: int = Field(default=7, ge=0, le=60, validation_alias="BILLING_GRACE_PERIOD_DAYS")
    checkout_success_url: str = Field(
        default="http://127.0.0.1:8000/billing/success?session_id={CHECKOUT_SESSION_ID}",
        validation_alias="BILLING_CHECKOUT_SUCCESS_URL",
    )
    checkout_cancel_url: str = Field(
        default="http://127.0.0.1:8000/billing/canceled", validation_alias="BILLING_CHECKOUT_CANCEL_URL"
    )
    portal_return_url: str = Field(
        default="http://127.0.0.1:8000/billing", validation_alias="BILLING_PORTAL_RETURN_URL"
    )

    @property
    def grace_period(self) -> timedelta:
        return timedelta(days=self.grace_period_days)


@lru_cache(maxsize=1)
def get_billing_settings() -> BillingSettings:
    return BillingSettings()
