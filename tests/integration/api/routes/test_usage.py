"""/api/v1/usage through the real API app: idempotent recording under the plan's limits."""

from __future__ import annotations


def post_usage(api, session, key, quantity=1, meter="api_calls"):
    return api.client.post(
        "/api/v1/usage",
        json={"meter": meter, "quantity": quantity},
        headers={**session.headers, "Idempotency-Key": key},
    )


def test_usage_is_idempotent_by_client_key(api, queues, owner):
    first = post_usage(api, owner, "evt-1", 5)
    again = post_usage(api, owner, "evt-1", 5)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["usage"]["used"] == 5
    conflict = post_usage(api, owner, "evt-1", 6)
    assert conflict.status_code == 409
    missing = api.client.post("/api/v1/usage", json={"meter": "api_calls"}, headers=owner.headers)
    assert missing.status_code == 400


def test_soft_limit_warns_then_hard_limit_refuses(api, queues, owner):
    api.set_plan(owner.tenant_id, "free")  # soft 800, hard 1000 units a month
    below = post_usage(api, owner, "a", 799)
    assert below.status_code == 201
    assert "x-usage-warning" not in below.headers
    assert below.json()["usage"]["soft_limit_reached"] is False

    warned = post_usage(api, owner, "b", 1)
    assert warned.headers["x-usage-warning"] == "soft-limit-reached"
    assert warned.json()["usage"] == {
        "period_start": warned.json()["usage"]["period_start"],
        "used": 800,
        "soft_limit": 800,
        "hard_limit": 1000,
        "soft_limit_reached": True,
    }

    assert post_usage(api, owner, "c", 200).status_code == 201  # exactly at the hard limit
    refused = post_usage(api, owner, "d", 1)
    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["used"] == 1000
    overview = api.client.get("/api/v1/usage", headers=owner.headers).json()
    assert overview["current"]["used"] == 1000


def test_usage_input_is_validated(api, queues, owner):
    for body in ({"meter": "Bad Meter"}, {"meter": "m", "quantity": 0}, {"meter": "m", "quantity": 10**7}):
        response = api.client.post(
            "/api/v1/usage", json=body, headers={**owner.headers, "Idempotency-Key": "k"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
