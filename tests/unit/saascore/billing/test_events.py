"""Parsing Stripe payloads of the pinned API version, starting from Stripe's own fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import stripe

from saas_cli import stripe_samples as samples
from saascore.billing.events import InvoiceSnapshot, StripeEvent, SubscriptionSnapshot
from saascore.billing.exceptions import BillingError, MalformedEventError
from saascore.billing.state import SubscriptionStatus
from saascore.billing.stripe_api import STRIPE_API_VERSION

FIXTURES = Path(__file__).resolve().parents[3] / "events" / "stripe"


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
    assert event.customer_id == "cus_A"
    assert event.tenant_hint == UUID(tenant)
    customer_event = samples.build_event("customer.updated", customer="cus_B", tenant_id=tenant)
    assert StripeEvent.parse(customer_event).customer_id == "cus_B"
    product = samples.event("product.created", {"id": "prod_1", "object": "product"})
    assert StripeEvent.parse(product).customer_id is None


def test_expanded_customer_objects_are_followed_to_their_id() -> None:
    payload = samples.build_event("invoice.paid", customer="cus_A", tenant_id="x")
    payload["data"]["object"]["customer"] = {"id": "cus_A", "object": "customer"}
    assert StripeEvent.parse(payload).customer_id == "cus_A"


ENVELOPE = {"id": "evt_1", "type": "x", "created": 1, "api_version": STRIPE_API_VERSION, "livemode": False}


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        None,
        "evt",
        7,
        {},
        {"id": "evt_1", "type": "x", "created": 1},
        {"id": "nope", "type": "x", "created": 1, "data": {"object": {}}},
        {"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}},
        {**ENVELOPE, "data": []},
        {**ENVELOPE, "data": {"object": []}},
        {**ENVELOPE, "data": {"object": {}}, "created": 10**30},
        {**ENVELOPE, "data": {"object": {}}, "created": float("inf")},
        {**ENVELOPE, "data": {"object": {}}, "created": True},
        {**ENVELOPE, "data": {"object": {}}, "api_version": None},
        {**ENVELOPE, "data": {"object": {}}, "api_version": ""},
        {**ENVELOPE, "data": {"object": {}}, "livemode": "false"},
    ],
)
def test_malformed_events_are_refused(payload) -> None:
    with pytest.raises(MalformedEventError) as refused:
        StripeEvent.parse(payload)
    assert isinstance(refused.value, BillingError)


def test_stripes_own_event_fixture_has_no_api_version_and_is_refused() -> None:
    # The API's listing of account-level events shows api_version null; a webhook delivery never does.
    with pytest.raises(MalformedEventError, match="api_version"):
        StripeEvent.parse(fixture("event"))
    assert StripeEvent.parse({**fixture("event"), "api_version": STRIPE_API_VERSION}).type == "plan.created"


TENANT_A = "5b1c2f54-0d7b-4f0e-9d1e-1f8e2a6f0c11"
TENANT_B = "0f0e1d2c-3b4a-4958-8776-655443322110"


def hint(obj: dict[str, Any]) -> UUID | None:
    return StripeEvent.parse(samples.event("invoice.paid", obj)).tenant_hint


def test_invoice_tenant_comes_from_its_subscription_details_metadata() -> None:
    invoice = fixture("invoice")  # Stripe's fixture: metadata {}, parent.subscription_details.metadata null
    assert hint(invoice) is None
    invoice["parent"]["subscription_details"]["metadata"] = {"tenant_id": TENANT_A}
    assert hint(invoice) == UUID(TENANT_A)
    built = samples.build_event("invoice.paid", customer="cus_1", tenant_id=TENANT_A, subscription_id="sub_1")
    assert built["data"]["object"]["metadata"] == {}
    assert StripeEvent.parse(built).tenant_hint == UUID(TENANT_A)


def test_tenant_is_read_from_invoice_lines_and_subscription_items() -> None:
    invoice = fixture("invoice")
    invoice["lines"]["data"][0]["metadata"] = {"tenant_id": TENANT_A}
    assert hint(invoice) == UUID(TENANT_A)
    subscription = fixture("subscription")
    subscription["items"]["data"][0]["metadata"] = {"tenant_id": TENANT_B}
    assert hint(subscription) == UUID(TENANT_B)


def test_checkout_tenant_from_client_reference_or_invoice_data() -> None:
    session = fixture("checkout_session")
    assert hint(session) is None
    session["client_reference_id"] = TENANT_A
    assert hint(session) == UUID(TENANT_A)
    session["client_reference_id"] = None
    session["invoice_creation"] = {"enabled": True, "invoice_data": {"metadata": {"tenant_id": TENANT_B}}}
    assert hint(session) == UUID(TENANT_B)


def test_places_that_disagree_name_no_tenant_and_junk_is_skipped() -> None:
    invoice = fixture("invoice")
    invoice["metadata"] = {"tenant_id": TENANT_A}
    invoice["parent"]["subscription_details"]["metadata"] = {"tenant_id": TENANT_B}
    assert hint(invoice) is None
    invoice["parent"]["subscription_details"]["metadata"] = {"tenant_id": "not-a-uuid"}
    assert hint(invoice) == UUID(TENANT_A)
    invoice["parent"] = "in_garbage"
    invoice["lines"] = {"data": "nope"}
    assert hint(invoice) == UUID(TENANT_A)


def test_subscription_without_status_is_malformed() -> None:
    obj = samples.subscription(customer="cus_1")
    del obj["status"]
    with pytest.raises(MalformedEventError):
        SubscriptionSnapshot.parse(obj)
