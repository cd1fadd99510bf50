"""The billing API's refusals; the API route maps each to one problem+json (API-only: they move to the API
with ``saascore.billing.service``)."""

from __future__ import annotations

from saascore.billing.exceptions import BillingError

# The routes catch the base class as ``errors.BillingError``.
__all__ = [
    "AlreadySubscribedError",
    "BillingError",
    "NoCustomerError",
    "NoSubscriptionError",
    "PaymentProviderError",
    "PriceNotFoundError",
    "SamePlanError",
]


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
