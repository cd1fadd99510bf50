"""The API with Stripe played by the stub, the jobs queue in moto, and fresh billing and processor caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from api.main import app
from api.routes import billing as billing_routes
from api.services import billing
from saascore.billing.settings import get_billing_settings
from saascore.billing.stripe_api import STRIPE_API_VERSION
from tests.integration.api.harness import ApiHarness, Session
from tests.support.queues import Queues, aws, queues
from tests.support.stripe_stub import TEST_API_KEY, StripeStub, stripe_stub
from webhooks import dispatch
from webhooks.settings import get_settings

__all__ = ["aws", "queues", "stripe_stub"]


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("JOBS_QUEUE_URL", raising=False)
    get_settings.cache_clear()
    get_billing_settings.cache_clear()
    dispatch._tenant_of_customer.clear()
    yield
    get_settings.cache_clear()
    get_billing_settings.cache_clear()
    dispatch._tenant_of_customer.clear()


@pytest.fixture
def billing_api(api: ApiHarness, stripe_stub: StripeStub) -> Iterator[ApiHarness]:
    client = stripe.StripeClient(
        TEST_API_KEY,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": stripe_stub.url},
        max_network_retries=0,
    )
    app.dependency_overrides[billing_routes.stripe_client] = lambda: client
    billing._price_cache.clear()
    try:
        yield api
    finally:
        app.dependency_overrides.pop(billing_routes.stripe_client, None)
        billing._price_cache.clear()


@pytest.fixture
def owner(api: ApiHarness, queues: Queues) -> Session:
    """The owner of a tenant on the Starter plan (reports included, usage limits set)."""
    session = api.sign_up()
    api.set_plan(session.tenant_id, "starter")
    return session
