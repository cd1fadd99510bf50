"""Dev IdP tokens pass the shared stdlib verifier with the pinned key, as the edge and API configure it."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.idp import DevIdp
from local.keys import load_or_create_key, public_jwk
from saascontracts.tokens import IssuerConfig, TokenError, TokenVerifier


def test_dev_idp_token_verifies_with_its_pinned_jwk(tmp_path: Path) -> None:
    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "keys" / "idp.pem")
    token = idp.issue("Alice@Example.com")
    verifier = TokenVerifier(
        [IssuerConfig(issuer=idp.issuer, audiences=(idp.client_id,), keys=(idp.jwk,), token_use="id")]
    )
    claims = verifier.verify(token)
    assert claims["email"] == "alice@example.com"
    assert claims["sub"] == idp.subject_for("alice@example.com")  # stable per email
    assert claims["token_use"] == "id"
    assert claims["aud"] == idp.client_id
    assert (tmp_path / "keys" / "idp.pem").stat().st_mode & 0o777 == 0o600


def test_a_token_from_another_key_is_refused(tmp_path: Path) -> None:
    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
    other = DevIdp(idp.issuer, tmp_path / "other.pem")
    verifier = TokenVerifier([IssuerConfig(issuer=idp.issuer, audiences=(idp.client_id,), keys=(idp.jwk,))])
    with pytest.raises(TokenError):
        verifier.verify(other.issue("mallory@example.com"))


def test_keys_are_created_once_and_kid_is_the_rfc7638_thumbprint(tmp_path: Path) -> None:
    first = load_or_create_key(tmp_path / "k.pem")
    again = load_or_create_key(tmp_path / "k.pem")
    assert public_jwk(first) == public_jwk(again)
    # RFC 7638 §3.1 example thumbprint computed over {"e","kty","n"} only: no other member may change it.
    assert public_jwk(first)["kid"] == public_jwk(first, kid=None)["kid"]
    assert len(public_jwk(first)["kid"]) == 43


def test_a_federated_token_has_cognitos_shape_and_reads_back(tmp_path: Path) -> None:
    from api.services.identity import federated_groups, federated_provider

    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
    token = idp.issue(
        "Jane@Acme.example", provider="sso-aaaaaaaaaaaa-bbbbbbbbbbbb", groups=["eng", "it admins"]
    )
    verifier = TokenVerifier([IssuerConfig(issuer=idp.issuer, audiences=(idp.client_id,), keys=(idp.jwk,))])
    claims = verifier.verify(token)
    (identity,) = claims["identities"]
    assert identity["providerName"] == "sso-aaaaaaaaaaaa-bbbbbbbbbbbb"
    assert identity["providerType"] == "SAML"
    assert claims["cognito:username"] == f"sso-aaaaaaaaaaaa-bbbbbbbbbbbb_{identity['userId']}"
    assert claims["custom:groups"] == "[eng, it admins]"
    assert claims["sub"] != idp.subject_for(
        "jane@acme.example"
    )  # Cognito's own user for the federated identity
    assert federated_provider(claims) == "sso-aaaaaaaaaaaa-bbbbbbbbbbbb"
    assert federated_groups(claims) == ("eng", "it admins")


def test_the_saml_metadata_passes_the_apis_checks_and_is_stable(tmp_path: Path) -> None:
    from api.services.saml_metadata import parse_idp_metadata

    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
    document = idp.saml_metadata("https://127.0.0.1/_local/idp/saml/sso")
    assert parse_idp_metadata(document.encode()).entity_id == idp.issuer
    assert idp.saml_metadata("https://127.0.0.1/_local/idp/saml/sso") == document


def test_the_authorization_code_flow_issues_a_verifiable_id_token_once(tmp_path: Path) -> None:
    from urllib.parse import parse_qs, urlsplit

    from local.idp import DevOidcEndpoints

    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
    endpoints = DevOidcEndpoints(idp)
    callback = "https://pool.auth.example/oauth2/idpresponse"
    request = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": callback, "state": "s1"}
    status, answer = endpoints.authorize({**request, "login_hint": "jane@acme.example"})
    assert status == 302
    query = parse_qs(urlsplit(answer["location"]).query)
    assert query["state"] == ["s1"]
    form = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": callback}
    assert endpoints.token({**form, "redirect_uri": "https://elsewhere.example"}, idp.client_id)[0] == 400
    status, tokens = endpoints.authorize({**request, "login_hint": "jane@acme.example"})
    code = parse_qs(urlsplit(tokens["location"]).query)["code"][0]
    status, tokens = endpoints.token({**form, "code": code}, idp.client_id)
    assert status == 200
    verifier = TokenVerifier(
        [IssuerConfig(issuer=idp.issuer, audiences=(idp.client_id,), token_use="id", keys=(idp.jwk,))]
    )
    assert verifier.verify(tokens["id_token"])["email"] == "jane@acme.example"
    assert endpoints.token({**form, "code": code}, idp.client_id) == (400, {"error": "invalid_grant"})
    assert endpoints.authorize({**request, "login_hint": "nobody"})[0] == 400
    assert endpoints.authorize({**request, "client_id": "other", "login_hint": "a@b.example"})[0] == 400
    assert endpoints.authorize({**request, "response_type": "token"})[0] == 400
    assert endpoints.token({"grant_type": "password"}, None) == (400, {"error": "unsupported_grant_type"})
