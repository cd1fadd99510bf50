"""Billing routes through the real API app, with Stripe played by the local stub."""

from __future__ import annotations

import threading
import time
from typing import Any, get_args

from api.main import app
from api.routes import billing as billing_routes
from api.schemas.billing import PaidPlan
from saas_cli import stripe_samples as samples
from saascore.billing.plans import PLANS
from saascore.billing.settings import BillingSettings
from tests.integration.api.harness import ApiHarness, Session
from tests.support.stripe_stub import StripeStub
from webhooks.dispatch import process_event


def post(api: ApiHarness, session: Session, path: str, body: dict[str, Any] | None = None, **headers: str):
    return api.client.post(f"/api/v1/billing/{path}", json=body, headers={**session.headers, **headers})


def subscribe(
    api: ApiHarness, stub: StripeStub, owner: Session, lookup_key: str = "starter_monthly"
) -> dict[str, Any]:
    """What happens after checkout: Stripe creates the subscription and its webhook arrives."""
    customer = next(iter(stub.customers))
    subscription = stub.add_subscription(
        customer=customer, lookup_key=lookup_key, metadata={"tenant_id": str(owner.tenant_id)}
    )
    process_event(samples.event("customer.subscription.created", subscription, created=int(time.time()) - 5))
    return subscription


def test_paid_plans_literal_matches_the_plans_table() -> None:
    sold = {key for key, plan in PLANS.items() if plan.price_lookup_key is not None}
    assert set(get_args(PaidPlan)) == sold


def test_checkout_creates_one_customer_with_tenant_metadata(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    first = post(billing_api, owner, "checkout-session", {"plan": "pro"})
    assert first.status_code == 201, first.text
    assert first.json()["url"].startswith("https://checkout.stripe.com/")
    second = post(billing_api, owner, "checkout-session", {"plan": "starter"})
    assert second.status_code == 201
    [customer] = stripe_stub.customers.values()
    assert customer["metadata"]["tenant_id"] == str(owner.tenant_id)
    [create] = stripe_stub.requests_to("POST", "/v1/customers")
    assert create.idempotency_key == f"tenant-customer-{owner.tenant_id}"
    session = stripe_stub.checkout_sessions[first.json()["id"]]
    assert session["customer"] == customer["id"]
    assert session["client_reference_id"] == str(owner.tenant_id)
    assert session["subscription_data_requested"] == {"metadata": {"tenant_id": str(owner.tenant_id)}}
    assert session["line_items_requested"] == [{"price": "price_pro_monthly", "quantity": "1"}]


def test_redirect_paths_resolve_against_the_viewer_host(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    paths = BillingSettings(
        BILLING_CHECKOUT_SUCCESS_URL="/billing/success?session_id={CHECKOUT_SESSION_ID}",
        BILLING_CHECKOUT_CANCEL_URL="/billing/canceled",
        BILLING_PORTAL_RETURN_URL="/billing",
    )
    app.dependency_overrides[billing_routes.billing_settings] = lambda: paths
    try:
        owner = billing_api.sign_up()
        off_edge = post(billing_api, owner, "checkout-session", {"plan": "pro"})
        assert off_edge.status_code == 503
        assert off_edge.json()["type"].endswith("/service-misconfigured")
        assert stripe_stub.customers == {}
        viewer = {"x-auth-viewer-host": "d111.cloudfront.net"}
        created = post(billing_api, owner, "checkout-session", {"plan": "pro"}, **viewer)
        assert created.status_code == 201, created.text
        session = stripe_stub.checkout_sessions[created.json()["id"]]
        assert (
            session["success_url"]
            == "https://d111.cloudfront.net/billing/success?session_id={CHECKOUT_SESSION_ID}"
        )
        assert session["cancel_url"] == "https://d111.cloudfront.net/billing/canceled"
        forged = post(billing_api, owner, "portal-session", None, **{"x-auth-viewer-host": "evil.example/x"})
        assert forged.status_code == 503
        portal = post(billing_api, owner, "portal-session", None, **viewer)
        assert portal.status_code == 201, portal.text
        [portal_request] = stripe_stub.requests_to("POST", "/v1/billing_portal/sessions")
        assert portal_request.params["return_url"] == "https://d111.cloudfront.net/billing"
    finally:
        app.dependency_overrides.pop(billing_routes.billing_settings, None)


def test_concurrent_checkouts_still_create_one_customer(
    billing_api: ApiHarness, stripe_stub: StripeStub, pg
) -> None:
    from fastapi.testclient import TestClient

    from api.deps import get_db
    from saascore.db.connection import Database
    from saascore.settings import DatabaseSettings

    owner = billing_api.sign_up()
    statuses: list[int] = []
    barrier = threading.Barrier(2)
    opened: list[Database] = []

    def own_connection() -> Database:
        # Each request gets its own connection, so the two checkouts really run side by side.
        db = Database(DatabaseSettings.model_validate({"DATABASE_URL": pg.app_url}))
        opened.append(db)
        return db

    app.dependency_overrides[get_db] = own_connection

    def attempt() -> None:
        with TestClient(app) as client:
            barrier.wait()
            response = client.post(
                "/api/v1/billing/checkout-session", json={"plan": "pro"}, headers=owner.headers
            )
            statuses.append(response.status_code)

    try:
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        app.dependency_overrides.pop(get_db, None)
        for db in opened:
            db.discard()
    assert statuses == [201, 201]
    assert len(opened) == 2
    assert len(stripe_stub.customers) == 1


def test_checkout_is_refused_when_already_subscribed(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    post(billing_api, owner, "checkout-session", {"plan": "starter"})
    subscribe(billing_api, stripe_stub, owner)
    refused = post(billing_api, owner, "checkout-session", {"plan": "pro"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/billing-already-subscribed")
    assert len(stripe_stub.checkout_sessions) == 1


def test_unknown_plan_is_a_422_problem(billing_api: ApiHarness) -> None:
    owner = billing_api.sign_up()
    response = post(billing_api, owner, "checkout-session", {"plan": "free"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_members_without_billing_manage_are_refused(billing_api: ApiHarness) -> None:
    owner = billing_api.sign_up()
    admin = billing_api.join(owner, "admin")
    assert post(billing_api, admin, "checkout-session", {"plan": "pro"}).status_code == 403
    assert billing_api.client.get("/api/v1/billing/subscription", headers=admin.headers).status_code == 200


def test_portal_needs_a_customer_then_returns_a_url(billing_api: ApiHarness, stripe_stub: StripeStub) -> None:
    owner = billing_api.sign_up()
    missing = post(billing_api, owner, "portal-session")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/billing-no-customer")
    post(billing_api, owner, "checkout-session", {"plan": "starter"})
    portal = post(billing_api, owner, "portal-session")
    assert portal.status_code == 201
    assert portal.json()["url"].startswith("https://billing.stripe.com/")


def test_subscription_overview_reflects_the_webhook_state(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    post(billing_api, owner, "checkout-session", {"plan": "pro"})
    subscription = subscribe(billing_api, stripe_stub, owner, "pro_monthly")
    overview = billing_api.client.get("/api/v1/billing/subscription", headers=owner.headers).json()
    assert overview["billing_status"] == "active"
    assert overview["access_level"] == "full"
    assert overview["subscription"]["id"] == subscription["id"]
    assert overview["subscription"]["plan"] == "pro"
    assert overview["entitlements"]["max_projects"] is None  # pro is unlimited


def test_plan_change_previews_then_modifies_the_same_subscription(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    post(billing_api, owner, "checkout-session", {"plan": "starter"})
    subscription = subscribe(billing_api, stripe_stub, owner, "starter_monthly")

    preview = post(billing_api, owner, "plan-change/preview", {"plan": "pro"})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["amount_due"] > 0
    assert [line["amount"] > 0 for line in body["lines"]] == [
        False,
        True,
        True,
    ]  # credit, charge, next period

    changed = post(
        billing_api,
        owner,
        "plan-change",
        {"plan": "pro", "proration_date": body["proration_date"]},
        **{"Idempotency-Key": "change-1"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["subscription_id"] == subscription["id"]
    retried = post(
        billing_api,
        owner,
        "plan-change",
        {"plan": "pro", "proration_date": body["proration_date"]},
        **{"Idempotency-Key": "change-1"},
    )
    assert retried.json() == changed.json()

    [update] = stripe_stub.requests_to("POST", "/v1/subscriptions/")
    assert update.params["proration_behavior"] == "create_prorations"
    assert update.params["proration_date"] == str(body["proration_date"])
    assert update.params["items"] == [
        {"id": subscription["items"]["data"][0]["id"], "price": "price_pro_monthly"}
    ]
    # Never a second subscription or customer.
    assert len(stripe_stub.subscriptions) == 1
    assert len(stripe_stub.customers) == 1
    assert stripe_stub.requests_to("POST", "/v1/checkout/sessions").__len__() == 1

    # The plan itself changes when Stripe's webhook arrives.
    process_event(
        samples.event("customer.subscription.updated", stripe_stub.subscriptions[subscription["id"]])
    )
    overview = billing_api.client.get("/api/v1/billing/subscription", headers=owner.headers).json()
    assert overview["plan"] == "pro"


def test_plan_change_without_subscription_or_to_the_same_plan(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    none = post(billing_api, owner, "plan-change", {"plan": "pro"})
    assert (none.status_code, none.json()["type"].rsplit("/", 1)[1]) == (409, "billing-no-subscription")
    post(billing_api, owner, "checkout-session", {"plan": "starter"})
    subscribe(billing_api, stripe_stub, owner, "starter_monthly")
    same = post(billing_api, owner, "plan-change/preview", {"plan": "starter"})
    assert (same.status_code, same.json()["type"].rsplit("/", 1)[1]) == (409, "billing-same-plan")


def test_stripe_failure_is_a_502_problem_and_nothing_is_stored(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    stripe_stub.fail_next("/v1/customers", 500)
    failed = post(billing_api, owner, "checkout-session", {"plan": "pro"})
    assert failed.status_code == 502
    assert failed.json()["type"].endswith("/billing-provider-error")
    retry = post(billing_api, owner, "checkout-session", {"plan": "pro"})
    assert retry.status_code == 201
    assert len(stripe_stub.customers) == 1


def test_a_proration_date_outside_the_current_period_is_a_422_with_a_pointer(
    billing_api: ApiHarness, stripe_stub: StripeStub
) -> None:
    owner = billing_api.sign_up()
    post(billing_api, owner, "checkout-session", {"plan": "starter"})
    subscription = subscribe(billing_api, stripe_stub, owner, "starter_monthly")
    period = subscription["items"]["data"][0]

    for proration_date in (10**18, period["current_period_start"] - 1, period["current_period_end"] + 1):
        refused = post(billing_api, owner, "plan-change", {"plan": "pro", "proration_date": proration_date})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"].endswith("/validation-failed")
        [error] = problem["errors"]
        assert error["pointer"] == "#/proration_date"
        assert str(period["current_period_end"]) in error["detail"]
    assert stripe_stub.requests_to("POST", "/v1/subscriptions/") == []

    accepted = post(
        billing_api, owner, "plan-change", {"plan": "pro", "proration_date": period["current_period_end"]}
    )
    assert accepted.status_code == 200, accepted.text
