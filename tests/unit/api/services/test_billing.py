"""The billing service's explicit limit: the price look-up cache lives a bounded time."""

from __future__ import annotations

import pytest
import stripe

from api.exceptions import PriceNotFoundError
from api.services import billing
from saascore.billing.plans import PLANS
from tests.support.stripe_stub import TEST_API_KEY, StripeStub, stripe_stub

__all__ = ["stripe_stub"]


def test_price_ids_are_cached_for_a_bounded_time(
    stripe_stub: StripeStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": stripe_stub.url}, max_network_retries=0)
    clock = [1000.0]
    monkeypatch.setattr(billing, "_clock", lambda: clock[0])
    monkeypatch.setattr(billing, "_price_cache", {})
    plan = PLANS["pro"]
    assert billing.price_id_for(client, plan) == "price_pro_monthly"
    clock[0] += billing.PRICE_CACHE_SECONDS - 1
    billing.price_id_for(client, plan)
    assert len(stripe_stub.requests_to("GET", "/v1/prices")) == 1
    clock[0] += 2
    billing.price_id_for(client, plan)
    assert len(stripe_stub.requests_to("GET", "/v1/prices")) == 2


def test_a_plan_without_a_stripe_price_is_refused(stripe_stub: StripeStub) -> None:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": stripe_stub.url}, max_network_retries=0)
    with pytest.raises(PriceNotFoundError):
        billing.price_id_for(client, PLANS["free"])
    del stripe_stub.prices["pro_monthly"]
    billing._price_cache.clear()
    with pytest.raises(PriceNotFoundError):
        billing.price_id_for(client, PLANS["pro"])
