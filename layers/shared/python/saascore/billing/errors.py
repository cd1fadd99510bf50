"""Billing errors; the API route maps each to one problem+json."""

from __future__ import annotations

from saascore.exceptions import SaasError


class BillingError(SaasError):
    """Base of the billing domain's refusals."""


class AlreadySubscribedError(BillingError):
    """The tenant has a live subscription: change its plan instead of starting a second one."""


class NoSubscriptionError(BillingError):
    """The tenant has no live subscription to change."""


class NoCustomerError(BillingError):
    """The tenant has no Stripe customer yet (it never started a checkout)."""


class SamePlanError(BillingError):
    """The requested plan is the one the subscription already has."""


class PriceNotFoundError(BillingError):
    """Stripe has no active price with the plan's lookup key (configuration drift)."""


class PaymentProviderError(BillingError):
    """Stripe refused or could not be reached; nothing was changed on our side."""
