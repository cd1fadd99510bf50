"""Webhook → subscription state → plan limits, and report job → CSV, through the running stack."""

from __future__ import annotations

import csv
import io
import json
import uuid

import httpx
import pytest

from local.state import LOCAL_WEBHOOK_SECRET
from saas_cli.stripe_samples import build_event, signature_header
from tests.e2e.conftest import E2E_WEBHOOK_SECRET, RunningStack, wait_for
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e


def test_signed_webhook_changes_subscription_and_plan_limits(stack: RunningStack) -> None:
    session = sign_in(stack, "frank@example.com", "initech")
    try:
        before = session.client.get("/api/v1/billing/subscription").json()
        assert before["plan"] == "starter"
        assert before["entitlements"]["max_projects"] == 25
        checkout = session.client.post("/api/v1/billing/checkout-session", json={"plan": "pro"})
        assert checkout.status_code == 201, checkout.text
        sent = stack.saas(
            "webhooks", "send", "customer.subscription.updated", "--tenant", "initech", "--plan", "pro"
        )
        assert "HTTP 200" in sent.stdout
        after = wait_for(
            lambda: (
                (body := session.client.get("/api/v1/billing/subscription").json())["plan"] == "pro" and body
            ),
            timeout=60,
            what="the webhook's effect",
        )
        assert after["billing_status"] == "active"
        assert after["entitlements"]["max_projects"] is None  # pro: unlimited
        # The next session carries the new plan claim.
        assert sign_in(stack, "frank@example.com", "initech").plan == "pro"
        canceled = stack.saas(
            "webhooks", "send", "customer.subscription.deleted", "--tenant", "initech", "--plan", "pro"
        )
        assert "HTTP 200" in canceled.stdout
        wait_for(
            lambda: session.client.get("/api/v1/billing/subscription").json()["billing_status"] == "canceled",
            timeout=60,
            what="cancellation",
        )
    finally:
        session.close()


def test_the_configured_webhook_secret_is_the_one_in_force(stack: RunningStack) -> None:
    assert stack.state.stripe_webhook_secret == E2E_WEBHOOK_SECRET
    event = build_event("customer.updated", customer="cus_secretcheck", tenant_id=str(uuid.uuid4()))
    payload = json.dumps(event)
    with stack.client() as client:
        for secret, expected in ((LOCAL_WEBHOOK_SECRET, 400), (E2E_WEBHOOK_SECRET, 200)):
            response = client.post(
                "/webhooks/stripe",
                content=payload.encode(),
                headers={
                    "stripe-signature": signature_header(payload, [secret]),
                    "content-type": "application/json",
                },
            )
            assert response.status_code == expected, response.text


def test_report_job_produces_a_downloadable_csv(stack: RunningStack) -> None:
    session = sign_in(stack, "grace@example.com", "umbrella")
    try:
        names = {f"report project {index}" for index in range(3)}
        for name in names:
            assert session.client.post("/api/v1/projects", json={"name": name}).status_code == 201
        accepted = session.client.post("/api/v1/reports", json={})
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["location"]
        job = wait_for(
            lambda: (
                (body := session.client.get(location).json())["status"] in ("succeeded", "failed", "dead")
                and body
            ),
            timeout=90,
            what="the report job",
        )
        assert job["status"] == "succeeded", job
        download = httpx.get(job["result"]["url"], timeout=30)
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert {row["name"] for row in rows} == names  # this tenant's projects, no one else's
        recent = {entry["id"]: entry for entry in stack.status()["recent_jobs"]}
        assert recent[job["id"]]["status"] == "succeeded"
    finally:
        session.close()
