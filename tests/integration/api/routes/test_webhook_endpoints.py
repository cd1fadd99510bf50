"""/api/v1/webhook-endpoints through the real app: registration behind the SSRF guard, secrets shown once
and rotated, and the whole path of a `project.created` fact to a real receiver (jobs outbox → dispatch
job → delivery queue → signed POST) verified with the `standardwebhooks` library, then a redelivery."""

from __future__ import annotations

import json
import uuid

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support.webhooks import DeliveryQueue, Receiver, pump, receiver, webhooks_aws

__all__ = ["receiver", "webhooks_aws"]

BASE = "/api/v1/webhook-endpoints"


@pytest.fixture
def hooks(webhooks_aws: DeliveryQueue) -> DeliveryQueue:
    return webhooks_aws


def register(api, owner, url, **fields):
    response = api.client.post(BASE, json={"url": url, **fields}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_project_created_reaches_the_receiver_signed_and_a_redelivery_sends_it_again(
    api, owner, hooks, queues, receiver: Receiver
):
    endpoint = register(api, owner, receiver.url, event_types=["project.created"])
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in api.client.get(f"{BASE}/{endpoint['id']}", headers=owner.headers).json()

    project = api.client.post("/api/v1/projects", json={"name": "Website"}, headers=owner.headers).json()
    api.client.patch(
        f"/api/v1/projects/{project['id']}", json={"name": "Site"}, headers={**owner.headers, "If-Match": "*"}
    )  # project.updated: recorded, but not subscribed
    pump(queues, hooks, api.database)

    [request] = receiver.requests
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "project.created"
    assert payload["version"] == 1
    assert payload["data"]["project"]["id"] == project["id"]
    assert payload["data"]["project"]["name"] == "Website"
    assert request.headers["webhook-id"] == payload["id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)

    log = api.client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=owner.headers).json()
    [delivery] = log["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("succeeded", 1, 200)
    assert delivery["event_type"] == "project.created"

    redo = api.client.post(
        f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", headers=owner.headers
    )
    assert redo.status_code == 202, redo.text
    assert redo.json()["status"] == "pending"
    pump(queues, hooks, api.database)
    assert len(receiver.requests) == 2
    again = receiver.requests[1]
    assert Webhook(endpoint["secret"]).verify(again.body, again.headers)["id"] == payload["id"]
    assert again.headers["webhook-id"] == request.headers["webhook-id"]  # same message, receivers dedupe
    [after] = api.client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=owner.headers).json()["items"]
    assert (after["status"], after["attempts"]) == ("succeeded", 2)


def test_events_are_recorded_with_the_change_and_not_without_it(api, owner, hooks):
    project = api.client.post("/api/v1/projects", json={"name": "A"}, headers=owner.headers).json()
    refused = api.client.patch(
        f"/api/v1/projects/{project['id']}", json={"name": "B"}, headers={**owner.headers, "If-Match": '"v9"'}
    )
    assert refused.status_code == 412
    api.client.delete(f"/api/v1/projects/{project['id']}", headers=owner.headers)
    member = api.client.post(
        "/api/v1/members", json={"email": "bo@acme.example", "role": "member"}, headers=owner.headers
    ).json()
    api.client.patch(f"/api/v1/members/{member['id']}", json={"role": "viewer"}, headers=owner.headers)
    api.client.delete(f"/api/v1/members/{member['id']}", headers=owner.headers)
    rows = api.owner_sql(
        owner.tenant_id,
        "SELECT type, version, actor_type, actor_user_id, data FROM events ORDER BY occurred_at",
    )
    assert [row[0] for row in rows] == [
        "project.created",
        "project.deleted",
        "member.added",
        "member.role_changed",
        "member.removed",
    ]
    assert all(row[1] == 1 and row[2] == "user" and row[3] == owner.user_id for row in rows)
    assert rows[3][4]["previous_role"] == "member"
    assert rows[3][4]["member"]["role"] == "viewer"
    # Nobody subscribes: no dispatch job was queued for any of them.
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM jobs WHERE type = 'dispatch_event'") == [(0,)]


def test_the_event_log_is_append_only_for_the_application(api, owner, hooks):
    import psycopg

    api.client.post("/api/v1/projects", json={"name": "A"}, headers=owner.headers)
    with psycopg.connect(api.database.settings.url.get_secret_value()) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)
        for statement in ("UPDATE events SET version = 2", "DELETE FROM events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://169.254.169.254/latest/meta-data", "non-public"),
        ("https://[fd00:ec2::254]/", "non-public"),
        ("https://10.0.0.8/hook", "non-public"),
        ("https://[::ffff:10.1.2.3]/", "non-public"),
        ("https://167772161/", "non-public"),  # 10.0.0.1 in decimal
        ("ftp://hooks.example.com/", "https"),
    ],
)
def test_unsafe_urls_are_refused_with_a_422_pointing_at_the_url(api, owner, hooks, url, reason):
    response = api.client.post(BASE, json={"url": url}, headers=owner.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("unsafe-url")
    assert problem["errors"][0]["pointer"] == "#/url"
    assert reason in problem["errors"][0]["detail"]
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM webhook_endpoints") == [(0,)]


def test_unknown_event_types_and_the_endpoint_limit_are_refused(api, owner, hooks, receiver, monkeypatch):
    bad = api.client.post(
        BASE, json={"url": receiver.url, "event_types": ["project.exploded"]}, headers=owner.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#/event_types"
    monkeypatch.setenv("WEBHOOK_MAX_ENDPOINTS", "1")
    from tests.support.webhooks import clear_webhook_caches

    clear_webhook_caches()
    register(api, owner, receiver.url)
    second = api.client.post(BASE, json={"url": receiver.url}, headers=owner.headers)
    assert second.status_code == 409
    assert "at most 1" in second.json()["detail"]


def test_update_disable_enable_and_delete(api, owner, hooks, receiver):
    endpoint = register(api, owner, receiver.url)
    changed = api.client.patch(
        f"{BASE}/{endpoint['id']}",
        json={"description": "orders", "event_types": ["member.added", "project.created"], "enabled": False},
        headers=owner.headers,
    ).json()
    assert changed["event_types"] == ["member.added", "project.created"]
    assert (changed["status"], changed["disabled_reason"]) == ("disabled", "manual")
    refused = api.client.patch(
        f"{BASE}/{endpoint['id']}", json={"url": "https://127.0.0.1.nip.io:0/"}, headers=owner.headers
    )
    assert refused.status_code == 422
    enabled = api.client.patch(
        f"{BASE}/{endpoint['id']}", json={"enabled": True}, headers=owner.headers
    ).json()
    assert (enabled["status"], enabled["disabled_reason"]) == ("enabled", None)
    listed = api.client.get(BASE, headers=owner.headers).json()
    assert [item["id"] for item in listed["items"]] == [endpoint["id"]]
    assert api.client.delete(f"{BASE}/{endpoint['id']}", headers=owner.headers).status_code == 204
    assert api.client.get(f"{BASE}/{endpoint['id']}", headers=owner.headers).status_code == 404
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM webhook_endpoint_secrets") == [(0,)]


def test_rotation_signs_with_both_secrets_until_the_old_one_expires(api, owner, hooks, queues, receiver):
    endpoint = register(api, owner, receiver.url)
    rotated = api.client.post(
        f"{BASE}/{endpoint['id']}/secret/rotate", json={"overlap_seconds": 3600}, headers=owner.headers
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"]
    api.client.post("/api/v1/projects", json={"name": "P"}, headers=owner.headers)
    pump(queues, hooks, api.database)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        Webhook(secret).verify(request.body, request.headers)

    # A second rotation ends the first overlap: still two live secrets at most, the oldest is gone.
    third = api.client.post(
        f"{BASE}/{endpoint['id']}/secret/rotate", json={"overlap_seconds": 0}, headers=owner.headers
    )
    assert third.status_code == 200
    api.client.post("/api/v1/projects", json={"name": "Q"}, headers=owner.headers)
    pump(queues, hooks, api.database)
    latest = receiver.requests[-1]
    assert latest.headers["webhook-signature"].count("v1,") == 1
    Webhook(third.json()["secret"]).verify(latest.body, latest.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(latest.body, latest.headers)
    stored = api.owner_sql(owner.tenant_id, "SELECT ciphertext FROM webhook_endpoint_secrets")
    assert len(stored) == 2
    assert all(third.json()["secret"].encode() not in bytes(row[0]) for row in stored)


def test_redelivery_refusals(api, owner, hooks, queues, receiver):
    endpoint = register(api, owner, receiver.url)
    receiver.statuses = [500]
    api.client.post("/api/v1/projects", json={"name": "P"}, headers=owner.headers)
    pump(queues, hooks, api.database)
    [delivery] = api.client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=owner.headers).json()["items"]
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", 500)
    assert delivery["next_attempt_at"] is not None
    pending = api.client.post(
        f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", headers=owner.headers
    )
    assert pending.status_code == 409
    missing = api.client.post(
        f"{BASE}/{endpoint['id']}/deliveries/{uuid.uuid4()}/redeliver", headers=owner.headers
    )
    assert missing.status_code == 404
    filtered = api.client.get(f"{BASE}/{endpoint['id']}/deliveries?status=succeeded", headers=owner.headers)
    assert filtered.json()["items"] == []


def test_members_and_viewers_cannot_manage_or_read_endpoints(api, owner, hooks, receiver):
    member = api.join(owner, "member")
    assert api.client.get(BASE, headers=member.headers).status_code == 403
    assert api.client.post(BASE, json={"url": receiver.url}, headers=member.headers).status_code == 403
    admin = api.join(owner, "admin")
    assert api.client.post(BASE, json={"url": receiver.url}, headers=admin.headers).status_code == 201
    body = json.dumps({"url": receiver.url, "extra": 1})
    assert (
        api.client.post(
            BASE, content=body, headers={**owner.headers, "content-type": "application/json"}
        ).status_code
        == 422
    )
