"""The Stripe stub behaves like the API for the calls the code makes through the real stripe library."""

from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_stub import TEST_API_KEY, StripeStub, decode_form


def client_for(stub: StripeStub) -> stripe.StripeClient:
    return stripe.StripeClient(TEST_API_KEY, base_addresses={"api": stub.url}, max_network_retries=0)


def test_decode_form_rebuilds_nested_lists_and_dicts() -> None:
    pairs = [("line_items[0][price]", "p1"), ("line_items[0][quantity]", "1"), ("metadata[tenant_id]", "t")]
    assert decode_form(pairs) == {
        "line_items": [{"price": "p1", "quantity": "1"}],
        "metadata": {"tenant_id": "t"},
    }


def test_idempotency_key_replays_the_first_response(stripe_stub: StripeStub) -> None:
    client = client_for(stripe_stub)
    options: stripe.RequestOptions = {"idempotency_key": "tenant-1-customer"}
    first = client.v1.customers.create(params={"metadata": {"tenant_id": "t1"}}, options=options)
    second = client.v1.customers.create(params={"metadata": {"tenant_id": "t1"}}, options=options)
    assert first.id == second.id
    assert list(stripe_stub.customers) == [first.id]
    assert stripe_stub.customers[first.id]["metadata"] == {"tenant_id": "t1"}


def test_checkout_portal_and_subscription_update(stripe_stub: StripeStub) -> None:
    client = client_for(stripe_stub)
    customer = client.v1.customers.create()
    prices = client.v1.prices.list(params={"lookup_keys": ["starter_monthly", "pro_monthly"]})
    assert {p.lookup_key for p in prices.data} == {"starter_monthly", "pro_monthly"}
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": "price_starter_monthly", "quantity": 1}],
            "success_url": "https://app.example/ok",
        }
    )
    assert session.url is not None
    assert session.url.startswith("https://checkout.stripe.com/")
    portal = client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    assert portal.customer == customer.id

    sub = stripe_stub.add_subscription(customer=customer.id)
    item_id = sub["items"]["data"][0]["id"]
    preview = client.v1.invoices.create_preview(
        params={
            "subscription": sub["id"],
            "subscription_details": {"items": [{"id": item_id, "price": "price_pro_monthly"}]},
        }
    )
    assert preview.lines.data[1].amount > 0 > preview.lines.data[0].amount
    updated = client.v1.subscriptions.update(
        sub["id"],
        params={
            "items": [{"id": item_id, "price": "price_pro_monthly"}],
            "proration_behavior": "create_prorations",
        },
    )
    assert updated["items"]["data"][0]["price"]["lookup_key"] == "pro_monthly"
    assert len(client.v1.subscriptions.list(params={"customer": customer.id}).data) == 1


def test_meter_events_are_unique_per_identifier(stripe_stub: StripeStub) -> None:
    client = client_for(stripe_stub)
    for _ in range(2):
        client.v1.billing.meter_events.create(
            params={
                "event_name": "api_requests",
                "payload": {"value": "3", "stripe_customer_id": "cus_1"},
                "identifier": "u-1",
            }
        )
    assert list(stripe_stub.meter_events) == ["u-1"]
    assert stripe_stub.meter_events["u-1"]["payload"] == {"value": "3", "stripe_customer_id": "cus_1"}


def test_injected_failure_surfaces_as_api_error(stripe_stub: StripeStub) -> None:
    stripe_stub.fail_next("/v1/customers", 500)
    with pytest.raises(stripe.APIError) as caught:
        client_for(stripe_stub).v1.customers.create()
    assert caught.value.http_status == 500
    assert stripe_stub.customers == {}
