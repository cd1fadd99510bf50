"""`saas stripe connect`: keys and webhook endpoint without console clicking, against the Stripe stub and moto."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time

import pytest

from saas_cli import main as saas
from saas_cli.stripe_connect import ConnectError, Connector, connect, handled_events
from saascore.billing.stripe_api import STRIPE_API_VERSION
from tests.integration.saas_cli.conftest import PLACEHOLDER, WEBHOOK_URL, secret_versions, stored_secret
from tests.support.stripe_stub import StripeStub
from webhooks.billing import HANDLERS
from webhooks.receiver import verify

GOOD_KEY = "sk_test_51GoodKeyForTheStub000"


@pytest.fixture
def stripe_account(stripe_stub: StripeStub) -> StripeStub:
    stripe_stub.api_keys = {GOOD_KEY}
    return stripe_stub


def endpoint_writes(stub: StripeStub) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in stub.requests
        if r.path.startswith("/v1/webhook_endpoints") and r.method != "GET"
    ]


def test_first_run_creates_the_endpoint_with_exactly_the_handled_events_and_stores_its_secret(
    deployed, stripe_account
):
    changes = connect(deployed, api_key=GOOD_KEY)
    (endpoint,) = stripe_account.webhook_endpoints.values()
    assert endpoint["url"] == WEBHOOK_URL
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLERS) == handled_events()
    assert endpoint["api_version"] == STRIPE_API_VERSION
    stored = stored_secret(deployed)
    assert stored["api_key"] == GOOD_KEY
    assert stored["webhook_secret"] == stripe_account.webhook_secrets[endpoint["id"]]
    assert stored["webhook_endpoint_id"] == endpoint["id"]
    assert changes[0] == "store the API key"


def test_second_run_changes_nothing_and_says_so(deployed, stripe_account, monkeypatch, capsys):
    connect(deployed, api_key=GOOD_KEY)
    versions, writes = secret_versions(deployed), endpoint_writes(stripe_account)
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD_KEY + "\n"))
    assert saas.main(["stripe", "connect", "--env", "dev", "--api-key-stdin"]) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert secret_versions(deployed) == versions
    assert endpoint_writes(stripe_account) == writes
    assert len(stripe_account.webhook_endpoints) == 1


def test_rerun_without_a_key_uses_the_stored_one(deployed, stripe_account, monkeypatch):
    connect(deployed, api_key=GOOD_KEY)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    assert connect(deployed, api_key=None) == []


def test_a_key_stripe_refuses_changes_nothing(deployed, stripe_account, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("sk_test_51RevokedKey0000000\n"))
    assert saas.main(["stripe", "connect", "--env", "dev", "--api-key-stdin"]) == 1
    error = capsys.readouterr().err
    assert "Stripe refused the key" in error
    assert "Nothing was changed" in error
    assert stored_secret(deployed) == PLACEHOLDER
    assert stripe_account.webhook_endpoints == {}


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("pk_test_51Publishable0000000", "not a Stripe secret"),
        ("sk_live_51LiveKey00000000000", "takes a test-mode key"),
        (None, "no Stripe key"),
    ],
)
def test_keys_of_the_wrong_kind_are_refused_before_stripe_is_called(
    deployed, stripe_account, monkeypatch, key, reason
):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(ConnectError, match=reason):
        connect(deployed, api_key=key)
    assert stripe_account.requests == []
    assert stored_secret(deployed) == PLACEHOLDER


def test_drifted_events_are_set_back_to_the_handled_list(deployed, stripe_account):
    connect(deployed, api_key=GOOD_KEY)
    (endpoint,) = stripe_account.webhook_endpoints.values()
    endpoint["enabled_events"] = ["charge.succeeded", "invoice.paid"]
    secret = stored_secret(deployed)["webhook_secret"]
    changes = connect(deployed, api_key=GOOD_KEY)
    assert changes == [f"set the events of {endpoint['id']} to the {len(HANDLERS)} the processor handles"]
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLERS)
    assert stored_secret(deployed)["webhook_secret"] == secret


def test_rotation_keeps_both_secrets_until_it_is_finished(deployed, stripe_account):
    connect(deployed, api_key=GOOD_KEY)
    (old_id,) = stripe_account.webhook_endpoints
    old_secret = stripe_account.webhook_secrets[old_id]
    connect(deployed, api_key=GOOD_KEY, rotate=True)
    (new_id,) = set(stripe_account.webhook_endpoints) - {old_id}
    new_secret = stripe_account.webhook_secrets[new_id]
    stored = stored_secret(deployed)
    assert stored["webhook_secret"] == f"{new_secret},{old_secret}"
    assert stored["previous_webhook_endpoint_id"] == old_id
    with pytest.raises(ConnectError, match="rotation is in progress"):
        connect(deployed, api_key=GOOD_KEY, rotate=True)
    connect(deployed, api_key=GOOD_KEY, finish_rotation=True)
    assert set(stripe_account.webhook_endpoints) == {new_id}
    stored = stored_secret(deployed)
    assert stored["webhook_secret"] == new_secret
    assert stored["webhook_endpoint_id"] == new_id
    assert "previous_webhook_endpoint_id" not in stored
    with pytest.raises(ConnectError, match="no rotation in progress"):
        connect(deployed, api_key=GOOD_KEY, finish_rotation=True)


def test_receiver_accepts_deliveries_signed_by_either_endpoint_during_a_rotation(deployed, stripe_account):
    connect(deployed, api_key=GOOD_KEY)
    connect(deployed, api_key=GOOD_KEY, rotate=True)
    configured = stored_secret(deployed)["webhook_secret"].split(",")
    payload = json.dumps(
        {
            "id": "evt_rotation",
            "object": "event",
            "type": "invoice.paid",
            "livemode": False,
            "created": int(time.time()),
            "api_version": STRIPE_API_VERSION,
            "data": {"object": {"id": "in_rotation", "object": "invoice", "customer": "cus_rotation"}},
        }
    )
    timestamp = int(time.time())
    for endpoint_id, endpoint_secret in stripe_account.webhook_secrets.items():
        signature = hmac.new(
            endpoint_secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
        ).hexdigest()
        event = verify(payload, f"t={timestamp},v1={signature}", configured, tolerance=300)
        assert event.id == "evt_rotation", endpoint_id


def test_an_endpoint_made_by_hand_without_its_secret_is_not_guessed_at(deployed, stripe_account):
    stripe_account.webhook_endpoints["we_byhand"] = {
        "id": "we_byhand",
        "object": "webhook_endpoint",
        "url": WEBHOOK_URL,
        "enabled_events": ["*"],
        "api_version": STRIPE_API_VERSION,
        "created": 1,
        "livemode": False,
        "metadata": {},
        "status": "enabled",
    }
    with pytest.raises(ConnectError, match="signing secret is not stored"):
        connect(deployed, api_key=GOOD_KEY)
    assert stored_secret(deployed) == PLACEHOLDER


def test_a_lost_secret_write_deletes_the_endpoint_it_created(deployed, stripe_account, monkeypatch):
    connector = Connector(deployed)
    plan, client, arn = connector.plan(api_key=GOOD_KEY, rotate=False, finish_rotation=False)

    def refuse(**_: object) -> None:
        raise RuntimeError("AccessDenied")

    monkeypatch.setattr(connector.secrets, "put_secret_value", refuse)
    with pytest.raises(RuntimeError):
        connector.apply(plan, client, arn)
    assert stripe_account.webhook_endpoints == {}
