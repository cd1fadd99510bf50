"""/api/v1/sso/domains, POST /api/v1/sessions/discover and enforced SSO, through the real app."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from api.exceptions import DnsLookupError
from tests.support.sso import (
    CALLBACK_URL,
    CognitoPool,
    ZoneResolver,
    cognito_pool,
    dns_zone,
    saml_metadata,
)

__all__ = ["cognito_pool", "dns_zone"]


def _connection(api, owner) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _verified_domain(
    api, owner, zone: ZoneResolver, domain: str, connection_id: str | None = None
) -> dict[str, Any]:
    claimed = api.client.post(
        "/api/v1/sso/domains", json={"domain": domain, "connection_id": connection_id}, headers=owner.headers
    )
    assert claimed.status_code == 201, claimed.text
    challenge = claimed.json()["challenge"]
    zone.publish(challenge["record_name"], f'"{challenge["record_value"]}"')
    verified = api.client.post(f"/api/v1/sso/domains/{claimed.json()['id']}/verify", headers=owner.headers)
    assert verified.status_code == 200, verified.text
    return dict(verified.json())


def _federated_token(api, email: str, provider: str, **claims: Any) -> str:
    identities = [
        {
            "userId": f"idp-{email}",
            "providerName": provider,
            "providerType": "SAML",
            "issuer": None,
            "primary": "true",
            "dateCreated": "1700000000000",
        }
    ]
    return str(api.id_token(email=email, subject=f"{provider}_{email}", identities=identities, **claims))


def test_a_domain_is_verified_by_its_dns_txt_record(api, cognito_pool, dns_zone):
    owner = api.sign_up()
    claimed = api.client.post("/api/v1/sso/domains", json={"domain": "Acme.Example."}, headers=owner.headers)
    assert claimed.status_code == 201, claimed.text
    domain = claimed.json()
    assert domain["domain"] == "acme.example"
    assert domain["verified"] is False
    challenge = domain["challenge"]
    assert challenge["record_name"] == "_saas-verification.acme.example"
    assert challenge["record_type"] == "TXT"
    assert challenge["record_value"].startswith("saas-verification=")
    verify = f"/api/v1/sso/domains/{domain['id']}/verify"

    dns_zone.publish(challenge["record_name"], '"v=spf1 -all"', '"saas-verification=someone-elses-token"')
    missing = api.client.post(verify, headers=owner.headers)
    assert missing.status_code == 422
    assert missing.json()["type"].endswith("domain-not-verified")
    assert "2 other TXT value(s)" in missing.json()["detail"]

    # Published split into two character-strings (as DNS hosts do past 255 bytes): one value.
    value = challenge["record_value"]
    dns_zone.publish(challenge["record_name"], f'"{value[:20]}" "{value[20:]}"')
    verified = api.client.post(verify, headers=owner.headers)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    again = api.client.post(verify, headers=owner.headers)
    assert again.json()["verified_at"] == verified.json()["verified_at"]
    audit = api.client.get("/api/v1/audit-logs", headers=owner.headers).text
    assert "sso_domain.verified" in audit
    assert value.removeprefix("saas-verification=") not in audit


def test_a_domain_verified_by_another_tenant_is_a_409(api, cognito_pool, dns_zone):
    a, b = api.sign_up(), api.sign_up()
    pending = api.client.post("/api/v1/sso/domains", json={"domain": "shared.example"}, headers=b.headers)
    assert pending.status_code == 201
    _verified_domain(api, a, dns_zone, "shared.example")

    claim = api.client.post("/api/v1/sso/domains", json={"domain": "shared.example"}, headers=b.headers)
    assert claim.status_code == 409
    assert "verified by another tenant" in claim.json()["detail"]
    # B's earlier claim cannot be verified any more, even with its own record published.
    dns_zone.publish(
        pending.json()["challenge"]["record_name"], f'"{pending.json()["challenge"]["record_value"]}"'
    )
    late = api.client.post(f"/api/v1/sso/domains/{pending.json()['id']}/verify", headers=b.headers)
    assert late.status_code == 409
    listed = api.client.get("/api/v1/sso/domains", headers=b.headers).json()
    assert [entry["verified"] for entry in listed] == [False]


def test_bad_domains_duplicates_and_dns_failures(api, cognito_pool, dns_zone):
    owner = api.sign_up()
    for bad in ("localhost", "-a.example", "a..example", "a_b.example", "x" * 64 + ".example"):
        response = api.client.post("/api/v1/sso/domains", json={"domain": bad}, headers=owner.headers)
        assert response.status_code == 422, bad
    idn = api.client.post("/api/v1/sso/domains", json={"domain": "bücher.example"}, headers=owner.headers)
    assert idn.json()["domain"] == "xn--bcher-kva.example"
    dup = api.client.post(
        "/api/v1/sso/domains", json={"domain": "XN--BCHER-KVA.example"}, headers=owner.headers
    )
    assert dup.status_code == 409
    dns_zone.failure = DnsLookupError("the DNS lookup of x did not answer; try again")
    failed = api.client.post(f"/api/v1/sso/domains/{idn.json()['id']}/verify", headers=owner.headers)
    assert failed.status_code == 503
    assert failed.json()["type"].endswith("dns-lookup-failed")
    unknown = api.client.post(
        "/api/v1/sso/domains",
        json={"domain": "c.example", "connection_id": "00000000-0000-0000-0000-000000000000"},
        headers=owner.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "#/connection_id"


def test_discovery_answers_sso_for_a_verified_domain_and_password_otherwise(
    api, cognito_pool: CognitoPool, dns_zone
):
    owner = api.sign_up()
    connection = _connection(api, owner)
    _verified_domain(api, owner, dns_zone, "acme.example", connection["id"])
    _verified_domain(api, owner, dns_zone, "no-connection.example")

    sso = api.client.post("/api/v1/sessions/discover", json={"email": "Jane@ACME.example"})
    assert sso.status_code == 200, sso.text
    answer = sso.json()
    assert answer["method"] == "sso"
    assert answer["sso_required"] is False
    url = urlsplit(answer["authorize_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        "https://saas-test.auth.us-east-1.amazoncognito.com/oauth2/authorize"
    )
    query = parse_qs(url.query)
    assert query["identity_provider"] == [connection["provider_name"]]
    assert query["client_id"] == [cognito_pool.client_id]
    assert query["redirect_uri"] == [CALLBACK_URL]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()

    password = {"method": "password", "authorize_url": None, "sso_required": False}
    for email in ("jane@unknown.example", "jane@no-connection.example", "not-an-email@", "a@b"):
        response = api.client.post("/api/v1/sessions/discover", json={"email": email})
        assert response.status_code in (200, 422), email
        if response.status_code == 200:
            assert response.json() == password, email
    assert set(answer) == set(password)


def test_enforced_sso_refuses_password_sign_in_for_the_domain(api, cognito_pool, dns_zone):
    owner = api.sign_up()
    connection = _connection(api, owner)
    domain = _verified_domain(api, owner, dns_zone, "acme.example")
    url = f"/api/v1/sso/domains/{domain['id']}"
    too_early = api.client.patch(url, json={"enforce_sso": True}, headers=owner.headers)
    assert too_early.status_code == 409

    member = api.join(owner, "member", email="jane@acme.example")
    outsider = api.join(owner, "member", email="contractor@elsewhere.example")
    enforced = api.client.patch(
        url, json={"connection_id": connection["id"], "enforce_sso": True}, headers=owner.headers
    )
    assert enforced.status_code == 200, enforced.text
    assert enforced.json()["enforce_sso"] is True
    discover = api.client.post("/api/v1/sessions/discover", json={"email": "jane@acme.example"}).json()
    assert discover["sso_required"] is True

    password = api.client.post(
        "/api/v1/sessions",
        json={"id_token": api.id_token(email=member.email), "tenant": str(owner.tenant_id)},
    )
    assert password.status_code == 403
    assert password.json()["type"].endswith("sso-required")
    assert "@acme.example" in password.json()["detail"]

    other_tenant = api.sign_up()
    foreign = _connection(api, other_tenant)
    through_foreign = api.client.post(
        "/api/v1/sessions",
        json={
            "id_token": _federated_token(api, member.email, foreign["provider_name"]),
            "tenant": str(owner.tenant_id),
        },
    )
    assert through_foreign.status_code == 403

    api.sign_in(owner.tenant_id, email=outsider.email)  # other domains are unaffected

    # Removing the connection turns enforcement off with it (the domain keeps its verification).
    assert (
        api.client.delete(f"/api/v1/sso/connections/{connection['id']}", headers=owner.headers).status_code
        == 204
    )
    released = api.client.get(url, headers=owner.headers).json()
    assert released["enforce_sso"] is False
    assert released["connection_id"] is None
    assert released["verified"] is True
    api.sign_in(owner.tenant_id, email=member.email)


def test_a_federated_sign_in_through_the_tenants_provider_passes_enforcement(api, cognito_pool, dns_zone):
    owner = api.sign_up()
    connection = _connection(api, owner)
    domain = _verified_domain(api, owner, dns_zone, "acme.example", connection["id"])
    invited = api.client.post(
        "/api/v1/members", json={"email": "jane@acme.example", "role": "member"}, headers=owner.headers
    )
    assert invited.status_code == 201
    api.client.patch(f"/api/v1/sso/domains/{domain['id']}", json={"enforce_sso": True}, headers=owner.headers)
    signed_in = api.client.post(
        "/api/v1/sessions",
        json={
            "id_token": _federated_token(api, "jane@acme.example", connection["provider_name"]),
            "tenant": str(owner.tenant_id),
        },
    )
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["role"] == "member"


def test_domain_delete_and_limits(api, cognito_pool, dns_zone):
    from api.services.sso_domains import MAX_DOMAINS_PER_TENANT

    owner = api.sign_up()
    ids = []
    for index in range(MAX_DOMAINS_PER_TENANT):
        response = api.client.post(
            "/api/v1/sso/domains", json={"domain": f"d{index}.example"}, headers=owner.headers
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    over = api.client.post("/api/v1/sso/domains", json={"domain": "over.example"}, headers=owner.headers)
    assert over.status_code == 409
    assert api.client.delete(f"/api/v1/sso/domains/{ids[0]}", headers=owner.headers).status_code == 204
    assert api.client.get(f"/api/v1/sso/domains/{ids[0]}", headers=owner.headers).status_code == 404
    member = api.join(owner, "member")
    assert api.client.get("/api/v1/sso/domains", headers=member.headers).status_code == 403
