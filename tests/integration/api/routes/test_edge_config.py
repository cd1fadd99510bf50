"""The edge's runtime document, served by the API from its own settings and read by the edge's own parser."""

from __future__ import annotations

from edge.config import load_config
from edge.remote_config import merge_document
from saascontracts.tokens import TokenVerifier
from tests.integration.api.harness import IDP_AUDIENCE, IDP_ISSUER, SESSION_ISSUER, api, configure_env

__all__ = ["api"]

DOCUMENT = "/.well-known/saas-edge-config.json"
ORIGIN = "https://d111111abcdef8.cloudfront.net"
BUNDLED = {
    "issuers": [{"issuer": SESSION_ISSUER, "audiences": ["saas-api"], "jwks_url": "/.well-known/jwks.json"}],
    "remote": {"path": DOCUMENT},
}


def test_document_names_the_session_issuer_and_the_idp_from_settings(api):
    response = api.client.get(DOCUMENT)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    document = response.json()
    issuers = {entry["issuer"]: entry for entry in document["issuers"]}
    assert set(issuers) == {SESSION_ISSUER, IDP_ISSUER}
    assert issuers[SESSION_ISSUER]["jwks_url"] == "/.well-known/jwks.json"
    assert issuers[SESSION_ISSUER]["keys"] == api.client.get("/.well-known/jwks.json").json()["keys"]
    assert issuers[IDP_ISSUER]["audiences"] == [IDP_AUDIENCE]
    assert issuers[IDP_ISSUER]["token_use"] == "id"
    load_config(document)  # the very parser of the bundled file accepts it as it stands


def test_edge_merging_the_document_verifies_both_kinds_of_token(api):
    owner = api.sign_up()
    config = merge_document(BUNDLED, api.client.get(DOCUMENT).json(), ORIGIN)
    verifier = TokenVerifier(config.issuers)
    assert verifier.verify(owner.access_token)["sid"] == str(owner.session_id)
    assert verifier.verify(api.id_token(email="someone@example.com"))["iss"] == IDP_ISSUER
    session = next(issuer for issuer in config.issuers if issuer.issuer == SESSION_ISSUER)
    assert session.jwks_url == f"{ORIGIN}/.well-known/jwks.json"


def test_without_an_identity_provider_only_the_session_issuer_is_named(api, monkeypatch):
    configure_env(monkeypatch, IDP_ISSUER="")
    document = api.client.get(DOCUMENT).json()
    assert [entry["issuer"] for entry in document["issuers"]] == [SESSION_ISSUER]


def test_document_is_public_and_needs_no_database(api):
    response = api.client.get(DOCUMENT, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 200
    assert "issuers" in response.json()
