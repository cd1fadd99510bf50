"""The README walk-through against the started stack, over real HTTP through the local CloudFront."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import RunningStack, problem_json
from tests.e2e.helpers import idp_token, sign_in

pytestmark = pytest.mark.e2e


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    data: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def test_public_health_and_security_headers_from_the_edge(stack: RunningStack) -> None:
    with stack.client() as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # viewer-response: security headers and the anonymous-visitor cookie
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" in response.headers
    assert response.cookies.get("aid")


def test_api_without_credentials_is_a_401_problem_from_the_edge(stack: RunningStack) -> None:
    with stack.client() as client:
        response = client.get("/api/v1/projects")
        forged = client.get("/api/v1/projects", headers={"x-auth-user": "x", "x-auth-tenant": "y"})
    assert response.status_code == 401
    assert problem_json(response)["status"] == 401
    assert "invalid_token" in response.headers.get("www-authenticate", "") or response.headers.get(
        "www-authenticate", ""
    ).startswith("Bearer")
    assert forged.status_code == 401  # client-sent identity headers are stripped, never trusted


def test_sign_up_session_and_the_session_key_the_edge_trusts(stack: RunningStack) -> None:
    session = sign_in(stack, "alice@example.com", "acme")
    try:
        claims = claims_of(session.access_token)
        assert claims["aud"] == "saas-api"
        assert claims["tid"] == session.tenant_id
        assert claims["role"] == "owner"
        me = session.client.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == "alice@example.com"
        # The JWKS the API serves is the key the edge config pins.
        jwks = session.client.get("/.well-known/jwks.json").json()
        pinned = json.loads((stack.root / "edge-config.json").read_text())["issuers"][0]["keys"][0]
        assert pinned["kid"] in {key["kid"] for key in jwks["keys"]}
        refreshed = session.client.post(
            "/api/v1/sessions/refresh", json={"refresh_token": session.refresh_token}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["refresh_token"] != session.refresh_token
    finally:
        session.close()


def test_projects_crud(stack: RunningStack) -> None:
    session = sign_in(stack, "alice@example.com", "acme")
    client = session.client
    try:
        created = client.post("/api/v1/projects", json={"name": "Apollo", "description": "moon"})
        assert created.status_code == 201, created.text
        project = created.json()
        listed = client.get("/api/v1/projects", params={"limit": 50}).json()
        assert project["id"] in {item["id"] for item in listed["items"]}
        fetched = client.get(f"/api/v1/projects/{project['id']}")
        assert fetched.status_code == 200
        etag = fetched.headers["etag"]
        updated = client.patch(
            f"/api/v1/projects/{project['id']}", json={"name": "Apollo 11"}, headers={"if-match": etag}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["name"] == "Apollo 11"
        stale = client.patch(
            f"/api/v1/projects/{project['id']}", json={"name": "late"}, headers={"if-match": etag}
        )
        assert stale.status_code == 412
        assert client.delete(f"/api/v1/projects/{project['id']}").status_code == 204
        soft_deleted = client.get(f"/api/v1/projects/{project['id']}").json()
        assert soft_deleted["deleted_at"] is not None  # soft delete: kept, flagged, hidden from lists
        assert project["id"] not in {item["id"] for item in client.get("/api/v1/projects").json()["items"]}
        restored = client.post(f"/api/v1/projects/{project['id']}/restore")
        assert restored.status_code == 200, restored.text
        assert restored.json()["deleted_at"] is None
        bad = client.post("/api/v1/projects", json={"name": "", "unknown": 1})
        assert bad.status_code == 422
        assert problem_json(bad)["status"] == 422
    finally:
        session.close()


def test_tenants_are_isolated(stack: RunningStack) -> None:
    alice = sign_in(stack, "alice@example.com", "acme")
    bob = sign_in(stack, "bob@example.com", "globex")
    try:
        secret = alice.client.post("/api/v1/projects", json={"name": "acme-secret"}).json()
        assert bob.client.get(f"/api/v1/projects/{secret['id']}").status_code == 404
        assert bob.client.patch(f"/api/v1/projects/{secret['id']}", json={"name": "x"}).status_code in (
            404,
            428,
        )
        assert bob.client.delete(f"/api/v1/projects/{secret['id']}").status_code == 404
        names = {item["name"] for item in bob.client.get("/api/v1/projects").json()["items"]}
        assert "acme-secret" not in names
        # Bob cannot open a session in Alice's tenant: he is not a member.
        token = idp_token(stack, "bob@example.com", "globex")
        with stack.client() as anonymous:
            denied = anonymous.post("/api/v1/sessions", json={"id_token": token, "tenant": "acme"})
        assert denied.status_code in (403, 404)
        assert alice.client.get(f"/api/v1/projects/{secret['id']}").status_code == 200
    finally:
        alice.close()
        bob.close()


def test_rate_limit_answers_429_with_headers(stack: RunningStack) -> None:
    session = sign_in(stack, "carol@example.com", "ratelimited")
    statuses: list[int] = []
    retry_after: list[str] = []

    def hit(_: int) -> None:
        response = session.client.get("/api/v1/projects", params={"limit": 1})
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after.append(response.headers.get("retry-after", ""))
            assert problem_json(response)["status"] == 429

    try:
        first = session.client.get("/api/v1/projects")
        assert "ratelimit" in {key.lower() for key in first.headers}
        with ThreadPoolExecutor(max_workers=8) as pool:
            for start in range(0, 700, 50):
                list(pool.map(hit, range(start, start + 50)))
                if 429 in statuses:
                    break
        assert 429 in statuses, f"no 429 after {len(statuses)} requests"
        assert all(value.isdigit() for value in retry_after)
        assert not [status for status in statuses if status >= 500]
    finally:
        session.close()


def test_bodies_and_methods_reach_the_origin_intact(stack: RunningStack) -> None:
    session = sign_in(stack, "alice@example.com", "acme")
    try:
        name = "Ünïcødé ✓ " + "x" * 100
        created = session.client.post(
            "/api/v1/projects",
            content=json.dumps({"name": name}).encode(),
            headers={"content-type": "application/json"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["name"] == name
        with pytest.raises(httpx.HTTPStatusError):
            session.client.get("/nowhere").raise_for_status()
    finally:
        session.close()
