"""Errors of the billing domain shared by the webhook processor and the reconciliation job."""

from __future__ import annotations

from saascore.exceptions import SaasError


class BillingError(SaasError):
    """Base of every error the billing domain raises on purpose."""


class MalformedEventError(BillingError):
    """The JSON is not a Stripe event, or lacks a field every event of its type has: retrying cannot help."""
