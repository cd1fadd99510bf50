"""Explicit limit: the processor's customer → tenant cache size."""

from __future__ import annotations

import uuid

import pytest

from saascore.billing.events import StripeEvent
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
