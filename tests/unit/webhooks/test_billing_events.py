"""Parsing Stripe payloads of the pinned API version, starting from Stripe's own fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import stripe

from saascore.billing.events import (
    InvoiceSnapshot,
    MalformedEventError,
    StripeEvent,
    SubscriptionSnapshot,
    customer_of,
)
from saascore.billing.state import SubscriptionStatus
from saascore.billing.stripe_api import STRIPE_API_VERSION
from webhooks import samples

FIXTURES = Path(__file__).resolve().parents[2] / "events" / "stripe"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_pinned_api_version_is_the_one_the_stripe_library_speaks() -> None:
    assert stripe.api_version == STRIPE_API_VERSION


def test_subscription_fixture_parses_with_period_end_from_its_item() -> None:
    snapshot = SubscriptionSnapshot.parse(fixture("subscription"))
    raw = fixture("subscription")["items"]["data"][0]
    assert snapshot.id == "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"
    assert snapshot.customer_id == "cus_QXg1o8vcGmoR32"
    assert snapshot.status is SubscriptionStatus.ACTIVE
    assert snapshot.item_id == raw["id"]
    assert snapshot.current_period_end == datetime.fromtimestamp(raw["current_period_end"], tz=UTC)
    assert snapshot.price_lookup_key is None


def test_invoice_subscription_comes_from_parent_subscription_details() -> None:
    invoice = InvoiceSnapshot.parse(fixture("invoice"))
    assert invoice.subscription_id == "subscription"  # the fixture's placeholder value
    built = InvoiceSnapshot.parse(samples.invoice(customer="cus_1", subscription_id="sub_9", status="open"))
    assert (built.subscription_id, built.customer_id, built.status) == ("sub_9", "cus_1", "open")


def test_event_envelope_and_customer_extraction() -> None:
    tenant = "5b1c2f54-0d7b-4f0e-9d1e-1f8e2a6f0c11"
    payload = samples.build_event("customer.subscription.updated", customer="cus_A", tenant_id=tenant)
    event = StripeEvent.parse(payload)
    assert event.customer_id == "cus_A" == customer_of(payload)
    assert event.tenant_hint == UUID(tenant)
    customer_event = samples.build_event("customer.updated", customer="cus_B", tenant_id=tenant)
    assert StripeEvent.parse(customer_event).customer_id == "cus_B" == customer_of(customer_event)
    assert customer_of(fixture("event")) is None


def test_expanded_customer_objects_are_followed_to_their_id() -> None:
    payload = samples.build_event("invoice.paid", customer="cus_A", tenant_id="x")
    payload["data"]["object"]["customer"] = {"id": "cus_A", "object": "customer"}
    assert StripeEvent.parse(payload).customer_id == "cus_A"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"id": "evt_1", "type": "x", "created": 1},
        {"id": "nope", "type": "x", "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}},
    ],
)
def test_malformed_events_are_refused(payload) -> None:
    with pytest.raises(MalformedEventError):
        StripeEvent.parse(payload)


def test_subscription_without_status_is_malformed() -> None:
    obj = samples.subscription(customer="cus_1")
    del obj["status"]
    with pytest.raises(MalformedEventError):
        SubscriptionSnapshot.parse(obj)
