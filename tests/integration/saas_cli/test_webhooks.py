"""`saas webhooks parked|replay|redrive|send` end to end (real PostgreSQL, moto SQS, a local HTTP receiver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
import stripe
from moto import mock_aws

from saas_cli import stripe_samples as samples
from saas_cli.main import main
from tests.integration.webhooks.conftest import BillingTenant, fetch_all
from webhooks.dispatch import process_event

SECRET = "whsec_cli_test_secret"


@pytest.fixture(autouse=True)
def _no_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SAAS_LOCAL_ROOT", str(tmp_path / "no-stack"))


def test_replay_reapplies_and_reports_unknown_ids(app_database, tenant: BillingTenant, capsys) -> None:
    event = samples.build_event(
        "customer.subscription.updated", customer=tenant.customer, tenant_id=str(tenant.id)
    )
    process_event(event)
    assert main(["webhooks", "replay", event["id"]]) == 0
    assert f"{event['id']}: applied" in capsys.readouterr().out
    assert fetch_all(app_database, tenant.id, "SELECT attempts FROM stripe_events") == [{"attempts": 2}]
    assert main(["webhooks", "replay", "evt_missing"]) == 1


def test_parked_lists_and_replay_with_tenant_routes_and_links(app_database, make_tenant, capsys) -> None:
    tenant = make_tenant(with_customer=False)
    paid = samples.event("invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None))
    assert process_event(paid).outcome == "parked"
    assert main(["webhooks", "parked"]) == 0
    listing = capsys.readouterr().out
    assert f"{paid['id']}  invoice.paid  customer {tenant.customer}" in listing
    assert "1 parked event(s)" in listing
    assert main(["webhooks", "replay", paid["id"]]) == 0  # still unknown customer: stays parked
    assert f"{paid['id']}: parked" in capsys.readouterr().out
    assert main(["webhooks", "replay", paid["id"], "--tenant", "no-such-tenant"]) == 1
    assert main(["webhooks", "replay", paid["id"], "--tenant", tenant.slug]) == 0
    assert f"{paid['id']}: applied (tenant {tenant.id})" in capsys.readouterr().out
    assert fetch_all(app_database, tenant.id, "SELECT stripe_customer_id FROM billing_customers") == [
        {"stripe_customer_id": tenant.customer}
    ]
    assert main(["webhooks", "parked"]) == 0
    assert "0 parked event(s)" in capsys.readouterr().out


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sqs")


def test_redrive_moves_dlq_messages_back_with_their_group_and_dedup(sqs, capsys) -> None:
    queue = sqs.create_queue(QueueName="hooks.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq = sqs.create_queue(QueueName="hooks-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    events = [samples.build_event("invoice.paid", customer=f"cus_{i}", tenant_id="t") for i in range(3)]
    sqs.send_message(QueueUrl=dlq, MessageBody="not json", MessageGroupId="g", MessageDeduplicationId="d-1")
    for i, event in enumerate(events):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps(event),
            MessageGroupId=f"cus_{i}",
            MessageDeduplicationId=event["id"],
        )
    args = ["webhooks", "redrive", "--queue-url", queue, "--dlq-url", dlq]
    assert main(args) == 0
    assert "moved 4" in capsys.readouterr().out
    moved = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    moved = [m for m in moved if m["Body"] != "not json"]
    assert sorted(
        (m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in moved
    ) == sorted((f"cus_{i}", e["id"]) for i, e in enumerate(events))
    assert main(args) == 0
    assert "moved 0" in capsys.readouterr().out


class _Capture(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).received.append((body, self.headers["Stripe-Signature"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received": true}')


def test_send_signs_a_realistic_event_for_the_tenant(app_database, tenant: BillingTenant, capsys) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
        code = main(
            [
                "webhooks",
                "send",
                "invoice.payment_failed",
                "--tenant",
                tenant.slug,
                "--url",
                url,
                "--secret",
                SECRET,
            ]
        )
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    [(body, header)] = _Capture.received
    event = stripe.Webhook.construct_event(body, header, SECRET)
    assert event.type == "invoice.payment_failed"
    assert event.data.object.customer == tenant.customer
    assert "HTTP 200" in capsys.readouterr().out


def test_send_for_an_unknown_tenant_fails(app_database, capsys) -> None:
    assert main(["webhooks", "send", "invoice.paid", "--tenant", "no-such-tenant", "--secret", SECRET]) == 1
    assert "no tenant" in capsys.readouterr().err
