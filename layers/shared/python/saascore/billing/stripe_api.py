"""The Stripe API adapter: the one pinned API version and a lazily built, cached ``StripeClient``.

The version is the one stripe-python 16.1 is generated for; webhook endpoints must be created with the
same version (``stripe webhook_endpoints create --api-version``) so event payloads have the shapes
``saascore.billing.events`` reads.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from saascore.billing.settings import get_billing_settings
from saascore.exceptions import ConfigurationError
from saascore.secrets import resolve_secret

if TYPE_CHECKING:
    import stripe
    from stripe._base_address import BaseAddresses

STRIPE_API_VERSION: Final = "2026-10-28.endive"


@lru_cache(maxsize=1)
def get_stripe_client() -> stripe.StripeClient:
    """The container's Stripe client; tests call ``get_stripe_client.cache_clear()`` after changing env."""
    import stripe

    settings = get_billing_settings()
    if not settings.stripe_api_key:
        raise ConfigurationError("STRIPE_API_KEY is not configured")
    base_addresses: BaseAddresses = {}
    if settings.stripe_api_base:
        base_addresses["api"] = settings.stripe_api_base
    return stripe.StripeClient(
        resolve_secret(settings.stripe_api_key),
        stripe_version=STRIPE_API_VERSION,
        base_addresses=base_addresses,
        max_network_retries=settings.stripe_max_network_retries,
    )
