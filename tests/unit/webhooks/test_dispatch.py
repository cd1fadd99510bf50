"""The processor's explicit limit: the customer → tenant cache is bounded and holds linked customers only."""

from __future__ import annotations

import uuid

import pytest

from saas_cli import stripe_samples as samples
from saascore.billing.events import StripeEvent
from webhooks import dispatch


def test_customer_cache_is_bounded_and_only_caches_known_customers(monkeypatch: pytest.MonkeyPatch) -> None:
    tenants = {f"cus_{i}": uuid.uuid4() for i in range(3)}
    lookups: list[str] = []

    def lookup(customer: str, *, database: object = None) -> uuid.UUID | None:
        lookups.append(customer)
        return tenants.get(customer)

    monkeypatch.setattr(dispatch, "tenant_by_customer", lookup)
    monkeypatch.setattr(dispatch, "CUSTOMER_CACHE_SIZE", 2)
    monkeypatch.setattr(dispatch, "_tenant_of_customer", {})

    def resolve(customer: str) -> dispatch.Route:
        event = StripeEvent.parse(
            samples.event("invoice.paid", samples.invoice(customer=customer, subscription_id=None))
        )
        route = dispatch.resolve_tenant(event)
        if route.tenant_id is not None:
            dispatch._remember(customer, route.tenant_id)  # what process_event does once applied
        return route

    assert resolve("cus_0") == dispatch.Route(tenants["cus_0"], linked=True, cached=False)
    assert resolve("cus_0") == dispatch.Route(tenants["cus_0"], linked=True, cached=True)
    assert lookups == ["cus_0"]
    resolve("cus_1")
    resolve("cus_2")  # the cache was full: it starts over
    assert len(dispatch._tenant_of_customer) == 1
    assert resolve("cus_unknown") == dispatch.Route(None, linked=False, cached=False)
    assert resolve("cus_unknown").tenant_id is None
    assert lookups.count("cus_unknown") == 2  # unknown customers are asked again (they may get linked)
