"""Explicit limits: the processor's customer → tenant cache size and the price look-up cache TTL."""

from __future__ import annotations

import uuid

import pytest
import stripe

from saascore.billing import service
from saascore.billing.errors import PriceNotFoundError
from saascore.billing.events import StripeEvent
from saascore.billing.plans import PLANS
from tests.support.stripe_stub import TEST_API_KEY, StripeStub
from webhooks import dispatch, repository, samples


def test_customer_cache_is_bounded_and_only_caches_known_customers(monkeypatch: pytest.MonkeyPatch) -> None:
    tenants = {f"cus_{i}": uuid.uuid4() for i in range(3)}
    lookups: list[str] = []

    def lookup(customer: str, *, database: object = None) -> uuid.UUID | None:
        lookups.append(customer)
        return tenants.get(customer)

    monkeypatch.setattr(repository, "tenant_by_customer", lookup)
    monkeypatch.setattr(dispatch, "CUSTOMER_CACHE_SIZE", 2)
    monkeypatch.setattr(dispatch, "_tenant_of_customer", {})

    def resolve(customer: str) -> tuple[uuid.UUID | None, bool]:
        event = StripeEvent.parse(
            samples.event("invoice.paid", samples.invoice(customer=customer, subscription_id=None))
        )
        return dispatch.resolve_tenant(event)

    assert resolve("cus_0") == (tenants["cus_0"], True)
    assert resolve("cus_0") == (tenants["cus_0"], True)
    assert lookups == ["cus_0"]
    resolve("cus_1")
    resolve("cus_2")  # the cache was full: it starts over
    assert len(dispatch._tenant_of_customer) == 1
    assert resolve("cus_unknown") == (None, False)
    assert resolve("cus_unknown") == (None, False)
    assert lookups.count("cus_unknown") == 2  # unknown customers are asked again (they may get linked)


def test_price_ids_are_cached_for_a_bounded_time(
    stripe_stub: StripeStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": stripe_stub.url}, max_network_retries=0)
    clock = [1000.0]
    monkeypatch.setattr(service, "_clock", lambda: clock[0])
    monkeypatch.setattr(service, "_price_cache", {})
    plan = PLANS["pro"]
    assert service.price_id_for(client, plan) == "price_pro_monthly"
    clock[0] += service.PRICE_CACHE_SECONDS - 1
    service.price_id_for(client, plan)
    assert len(stripe_stub.requests_to("GET", "/v1/prices")) == 1
    clock[0] += 2
    service.price_id_for(client, plan)
    assert len(stripe_stub.requests_to("GET", "/v1/prices")) == 2


def test_a_plan_without_a_stripe_price_is_refused(stripe_stub: StripeStub) -> None:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": stripe_stub.url}, max_network_retries=0)
    with pytest.raises(PriceNotFoundError):
        service.price_id_for(client, PLANS["free"])
    del stripe_stub.prices["pro_monthly"]
    service._price_cache.clear()
    with pytest.raises(PriceNotFoundError):
        service.price_id_for(client, PLANS["pro"])
