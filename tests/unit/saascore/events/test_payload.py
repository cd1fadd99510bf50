"""The webhook body and its Standard Webhooks headers, checked with the `standardwebhooks` verifier."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from saascore.events.catalog import EVENT_TYPES, event_type
from saascore.events.exceptions import UnknownEventTypeError
from saascore.events.payload import event_body, message_id, signed_headers
from saascore.events.secrets import generate_secret

EVENT = {
    "id": uuid.UUID("0b7c5d1e-0000-4000-8000-000000000001"),
    "type": "project.created",
    "version": 1,
    "occurred_at": datetime(2026, 12, 2, 13, 0, 0, 123456, tzinfo=UTC),
    "data": {"project": {"id": "p1", "name": "Café"}},
}


def test_the_body_is_the_documented_envelope():
    body = json.loads(event_body(EVENT))
    assert body == {
        "id": "evt_0b7c5d1e000040008000000000000001",
        "type": "project.created",
        "version": 1,
        "timestamp": "2026-12-02T13:00:00.123456Z",
        "data": {"project": {"id": "p1", "name": "Café"}},
    }


def test_signatures_verify_with_each_live_secret_and_not_with_others():
    old, new = generate_secret(), generate_secret()
    body = event_body(EVENT)
    headers = signed_headers(
        msg_id=message_id(EVENT["id"]), body=body, secrets=[new, old], now=datetime.now(UTC)
    )
    assert headers["webhook-id"] == "evt_0b7c5d1e000040008000000000000001"
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body.encode(), headers)["type"] == "project.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("Café", "Cafe").encode(), headers)


def test_secrets_follow_the_spec_and_signing_needs_one():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(secret) == len("whsec_") + 44
    with pytest.raises(ValueError, match="at least one"):
        signed_headers(msg_id="evt_1", body="{}", secrets=[], now=datetime.now(UTC))


def test_the_catalogue_names_types_and_versions():
    assert all(name.count(".") >= 1 and spec.version >= 1 for name, spec in EVENT_TYPES.items())
    assert event_type("billing.status_changed").version == 1
    with pytest.raises(UnknownEventTypeError):
        event_type("project.exploded")
