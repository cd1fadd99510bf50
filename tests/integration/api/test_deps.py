from __future__ import annotations

import time

from api.services.identity import issue_access_token


def edge_headers(session, **overrides):
    headers = {
        "x-auth-token": session.access_token,
        "x-auth-user": str(session.user_id),
        "x-auth-tenant": str(session.tenant_id),
        "x-auth-role": session.role,
        "x-auth-plan": "starter",
        "x-auth-session": str(session.session_id),
        "x-request-id": "req-123",
    }
    headers.update(overrides)
    return headers


def test_edge_headers_are_reverified_and_must_match(api):
    owner = api.sign_up()
    ok = api.client.get(
        "/api/v1/me", headers={**edge_headers(owner), "x-flags": '{"beta":true}', "x-experiments": "exp:b"}
    )
    assert ok.status_code == 200
    assert ok.json()["flags"] == {"beta": True}
    assert ok.json()["experiments"] == {"exp": "b"}
    assert ok.headers["x-request-id"] == "req-123"
    other = api.sign_up()
    forged = api.client.get(
        "/api/v1/me", headers=edge_headers(owner, **{"x-auth-tenant": str(other.tenant_id)})
    )
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    # Claim headers without a token are no identity at all.
    bare = {k: v for k, v in edge_headers(owner).items() if k != "x-auth-token"}
    assert api.client.get("/api/v1/me", headers=bare).status_code == 401


def test_missing_invalid_and_expired_tokens_are_401(api):
    owner = api.sign_up()
    assert api.client.get("/api/v1/projects").status_code == 401
    tampered = owner.access_token[:-4] + ("AAAA" if not owner.access_token.endswith("AAAA") else "BBBB")
    assert (
        api.client.get("/api/v1/projects", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    )
    expired, _ = issue_access_token(
        user_id=owner.user_id,
        tenant_id=owner.tenant_id,
        session_id=owner.session_id,
        role="owner",
        plan="starter",
        now=time.time() - 3600,
    )
    response = api.client.get("/api/v1/projects", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_idp_token_is_not_a_session(api):
    idp_token = api.id_token(email="someone@x.example")
    response = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {idp_token}"})
    assert response.status_code == 401


def test_sign_up_refuses_untrusted_identity_tokens(api):
    body = {"tenant_name": "X", "tenant_slug": "x-corp"}
    wrong_key = api.id_token(email="a@b.example", key="attacker")
    assert api.client.post("/api/v1/signup", json={**body, "id_token": wrong_key}).status_code == 401
    wrong_issuer = api.id_token(email="a@b.example", issuer="https://evil.example")
    assert api.client.post("/api/v1/signup", json={**body, "id_token": wrong_issuer}).status_code == 401
    access_token = api.id_token(email="a@b.example", token_use="access")
    assert api.client.post("/api/v1/signup", json={**body, "id_token": access_token}).status_code == 401


def test_jwks_verifies_issued_tokens(api):
    from saascontracts.tokens import IssuerConfig, TokenVerifier

    owner = api.sign_up()
    jwks = api.client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    assert keys[0]["alg"] == "RS256"
    verifier = TokenVerifier(
        [IssuerConfig(issuer="https://api.test.example", audiences=("saas-api",), keys=tuple(keys))]
    )
    claims = verifier.verify(owner.access_token)
    assert claims["tid"] == str(owner.tenant_id)
    assert claims["sid"] == str(owner.session_id)
    assert {"sub", "tid", "role", "plan", "sid", "iat", "exp", "iss", "aud"} <= claims.keys()


def test_removed_member_loses_access_immediately(api):
    owner = api.sign_up()
    member = api.join(owner, "member")
    members = api.client.get("/api/v1/members", headers=owner.headers).json()["items"]
    member_id = next(m["id"] for m in members if m["user_id"] == str(member.user_id))
    assert api.client.delete(f"/api/v1/members/{member_id}", headers=owner.headers).status_code == 204
    assert api.client.get("/api/v1/projects", headers=member.headers).status_code == 401
