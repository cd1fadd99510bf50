from __future__ import annotations

import time
import uuid

import boto3
import pytest
from moto import mock_aws

from api.services.ratelimit import RateLimiter, limits_for
from tests.integration.api.harness import clear_api_caches

TABLE = "saas-rate-limits"


@pytest.fixture
def dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def limited_api(api, dynamodb, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_TABLE", TABLE)
    clear_api_caches()
    return api


def window_start(now: float, window: int = 60) -> int:
    return int(now // window) * window


def seed(client, prefix: str, hits: int) -> None:
    """Fill this window and the next, so a minute rolling over mid-test changes nothing."""
    start = window_start(time.time())
    for window in (start, start + 60):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"{prefix}#{window}"}, "hits": {"N": str(hits)}})


def test_headers_on_every_authenticated_response(limited_api):
    owner = limited_api.sign_up()
    response = limited_api.client.get("/api/v1/projects", headers=owner.headers)
    assert response.status_code == 200
    tenant_limit, user_limit = limits_for("starter")  # the trial plan
    assert response.headers["ratelimit"].startswith(f"limit={user_limit}, remaining={user_limit - 1}, reset=")
    assert response.headers["ratelimit-policy"] == (
        f'{tenant_limit};w=60;comment="tenant", {user_limit};w=60;comment="user"'
    )


def test_user_over_limit_gets_429_problem_with_retry_after(limited_api, dynamodb):
    owner = limited_api.sign_up()
    _, user_limit = limits_for("starter")
    seed(dynamodb, f"user#{owner.tenant_id}#{owner.user_id}", user_limit)
    response = limited_api.client.get("/api/v1/projects", headers=owner.headers)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["limit"] == "user"
    assert int(response.headers["retry-after"]) in range(1, 61)
    assert "remaining=0" in response.headers["ratelimit"]


def test_tenant_limit_applies_to_all_users(limited_api, dynamodb):
    owner = limited_api.sign_up()
    tenant_limit, _ = limits_for("starter")
    seed(dynamodb, f"tenant#{owner.tenant_id}", tenant_limit)
    response = limited_api.client.get("/api/v1/me", headers=owner.headers)
    assert response.status_code == 429
    assert response.json()["limit"] == "tenant"


def test_fails_open_when_dynamodb_is_unavailable(api, dynamodb, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_TABLE", "no-such-table")
    clear_api_caches()
    owner = api.sign_up()
    response = api.client.get("/api/v1/projects", headers=owner.headers)
    assert response.status_code == 200
    assert "ratelimit" not in response.headers


def test_counter_is_atomic_and_window_scoped(dynamodb):
    limiter = RateLimiter(dynamodb, table=TABLE, window_seconds=60)
    tenant, user = uuid.uuid4(), uuid.uuid4()
    _, user_limit = limits_for("free")
    checked = [
        limiter.check(tenant_id=tenant, user_id=user, plan="free", now=120.0) for _ in range(user_limit + 1)
    ]
    decisions = [d for d in checked if d is not None]
    assert len(decisions) == user_limit + 1
    assert [d.allowed for d in decisions] == [True] * user_limit + [False]
    assert decisions[-1].exceeded == "user"
    assert decisions[0].reset_seconds == 60
    # The next window starts from zero.
    fresh = limiter.check(tenant_id=tenant, user_id=user, plan="free", now=180.5)
    assert fresh is not None
    assert fresh.allowed
    assert fresh.remaining == user_limit - 1


def test_an_api_key_is_counted_on_its_own(limited_api, dynamodb):
    """A key's token uses the key's own share: its creator exhausting theirs leaves the key unaffected."""
    owner = limited_api.sign_up()
    created = limited_api.client.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["projects:read"]}, headers=owner.headers
    ).json()
    token = limited_api.client.post(
        "/api/v1/sessions/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    ).json()["access_token"]
    _, user_limit = limits_for("starter")
    seed(dynamodb, f"user#{owner.tenant_id}#{owner.user_id}", user_limit)
    key_headers = {"Authorization": f"Bearer {token}"}
    assert limited_api.client.get("/api/v1/projects", headers=key_headers).status_code == 200
    seed(dynamodb, f"user#{owner.tenant_id}#{created['id']}", user_limit)
    assert limited_api.client.get("/api/v1/projects", headers=key_headers).status_code == 429
