"""The outbound webhook walk-through through the running stack: register an endpoint (a receiver on
loopback, allowed locally), create a project, receive the signed `project.created` and verify it with the
`standardwebhooks` library, then redeliver it from the delivery log."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from tests.e2e.conftest import RunningStack, wait_for
from tests.e2e.helpers import sign_in
from tests.support.webhooks import Receiver, receiver

__all__ = ["receiver"]

pytestmark = pytest.mark.e2e


def test_a_project_created_reaches_a_registered_endpoint_signed_and_is_redelivered(
    stack: RunningStack, receiver: Receiver
) -> None:
    session = sign_in(stack, "hana@example.com", "hooli")
    try:
        endpoint = session.client.post(
            "/api/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["project.created"]}
        )
        assert endpoint.status_code == 201, endpoint.text
        secret, endpoint_id = endpoint.json()["secret"], endpoint.json()["id"]
        project = session.client.post("/api/v1/projects", json={"name": "Hooks"}).json()

        wait_for(lambda: receiver.requests, timeout=30, what="the signed webhook")
        first = receiver.requests[0]
        payload = Webhook(secret).verify(first.body, first.headers)
        assert (payload["type"], payload["data"]["project"]["id"]) == ("project.created", project["id"])

        deliveries = f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries"
        delivered = wait_for(
            lambda: [d for d in session.client.get(deliveries).json()["items"] if d["status"] == "succeeded"],
            timeout=15,
            what="the delivery log entry",
        )
        redo = session.client.post(f"{deliveries}/{delivered[0]['id']}/redeliver")
        assert redo.status_code == 202, redo.text
        wait_for(lambda: len(receiver.requests) >= 2, timeout=30, what="the redelivery")
        again = receiver.requests[1]
        assert Webhook(secret).verify(again.body, again.headers)["id"] == payload["id"]
    finally:
        session.close()
