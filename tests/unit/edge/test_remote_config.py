"""The edge learns its issuers from the origin's document at run time: merged, bounded, cached, stale-if-error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from edge import handler
from edge.config import ConfigError
from edge.remote_config import (
    MAX_DOCUMENT_BYTES,
    RemoteConfig,
    distribution_origin,
    load_bundled,
    merge_document,
    parse_remote_settings,
)
from tests.support.tokens import AUDIENCE, ISSUER, NOW, FrozenClock, SigningKey, standard_claims
from tests.unit.edge.test_handler import load_event, viewer_event

DOMAIN = "d111111abcdef8.cloudfront.net"
CONFIG_PATH = "/.well-known/saas-edge-config.json"
IDP = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"


class Origin:
    """The origin's document as the edge's fetcher sees it; counts calls, can fail."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.body = json.dumps(document).encode()
        self.calls: list[tuple[str, float, int]] = []
        self.error: OSError | None = None

    def __call__(self, url: str, timeout: float, *, max_bytes: int) -> bytes:
        self.calls.append((url, timeout, max_bytes))
        if self.error is not None:
            raise self.error
        return self.body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bundled(session_key: SigningKey, **remote: Any) -> dict[str, Any]:
    return {
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": "/.well-known/jwks.json"}],
        "remote": {"path": CONFIG_PATH, **remote},
        "flags": {"payload": {"features": {}}},
    }


def idp_document(idp_key: SigningKey) -> dict[str, Any]:
    return {
        "issuers": [
            {"issuer": IDP, "audiences": ["client-1"], "token_use": "id", "keys": [idp_key.public_jwk]}
        ]
    }


def cf(
    event_type: str = "viewer-request", uri: str = "/api/v1/projects", domain: str = DOMAIN
) -> dict[str, Any]:
    return {"config": {"distributionDomainName": domain, "eventType": event_type}, "request": {"uri": uri}}


def test_first_viewer_request_fetches_through_the_distribution_and_merges(signing_key, other_key):
    origin = Origin(idp_document(other_key))
    source = RemoteConfig(bundled(signing_key), fetch=origin)
    config = source.config_for(cf())
    assert origin.calls == [(f"https://{DOMAIN}{CONFIG_PATH}", 2.0, MAX_DOCUMENT_BYTES)]
    by_issuer = {issuer.issuer: issuer for issuer in config.issuers}
    assert by_issuer[ISSUER].jwks_url == f"https://{DOMAIN}/.well-known/jwks.json"
    assert by_issuer[IDP].audiences == ("client-1",)
    assert by_issuer[IDP].token_use == "id"


def test_remote_issuer_replaces_the_bundled_one_with_the_same_issuer(signing_key):
    document = {"issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [signing_key.public_jwk]}]}
    config = merge_document(bundled(signing_key), document, "https://x.test")
    assert len(config.issuers) == 1
    assert config.issuers[0].keys == (signing_key.public_jwk,)
    assert config.issuers[0].jwks_url is None


def test_document_is_cached_for_its_ttl_and_the_config_object_kept_when_unchanged(signing_key, other_key):
    origin, clock = Origin(idp_document(other_key)), Clock()
    source = RemoteConfig(bundled(signing_key, ttl_seconds=60), fetch=origin, monotonic=clock)
    first = source.config_for(cf())
    clock.now += 59
    assert source.config_for(cf()) is first
    assert len(origin.calls) == 1
    clock.now += 2
    assert source.config_for(cf()) is first, "an unchanged document must not rebuild the runtime"
    assert len(origin.calls) == 2


def test_failed_refresh_keeps_the_last_good_config_and_waits_before_retrying(signing_key, other_key):
    origin, clock = Origin(idp_document(other_key)), Clock()
    source = RemoteConfig(
        bundled(signing_key, ttl_seconds=60, retry_seconds=30), fetch=origin, monotonic=clock
    )
    good = source.config_for(cf())
    origin.error = TimeoutError("timed out")
    clock.now += 61
    assert source.config_for(cf()) is good
    assert source.last_error == "TimeoutError: timed out"
    clock.now += 10
    assert source.config_for(cf()) is good
    assert len(origin.calls) == 2, "no retry inside retry_seconds"
    origin.error = None
    clock.now += 25
    assert source.config_for(cf()) is good
    assert len(origin.calls) == 3
    assert source.last_error is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"issuers": [{"issuer": IDP}]}).encode(),  # no audiences: load_config refuses it
        json.dumps(
            {"issuers": [], "public_paths": ["* /*"]}
        ).encode(),  # only issuers may come from the origin
    ],
)
def test_invalid_document_at_cold_start_falls_back_to_the_bundled_config(signing_key, body):
    origin = Origin({})
    origin.body = body
    source = RemoteConfig(bundled(signing_key), fetch=origin)
    config = source.config_for(cf())
    assert [issuer.issuer for issuer in config.issuers] == [ISSUER]
    assert source.last_error is not None


def test_only_viewer_request_fetches_and_never_for_the_document_itself(signing_key, other_key):
    origin = Origin(idp_document(other_key))
    source = RemoteConfig(bundled(signing_key), fetch=origin)
    source.config_for(cf("origin-request"))
    source.config_for(cf("viewer-response"))
    source.config_for(cf(uri=CONFIG_PATH))
    assert origin.calls == []
    source.config_for(cf())
    assert len(origin.calls) == 1


@pytest.mark.parametrize("domain", [None, "", "evil.test/path", "a b", "x" * 300])
def test_an_unusable_distribution_domain_is_not_fetched(signing_key, domain):
    origin = Origin({})
    source = RemoteConfig(bundled(signing_key), fetch=origin)
    config = source.config_for(cf(domain=domain))
    assert origin.calls == []
    assert config.issuers[0].jwks_url == "/.well-known/jwks.json"


def test_plain_http_only_to_a_loopback_distribution():
    assert distribution_origin("127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert distribution_origin("localhost:9") == "http://localhost:9"
    assert distribution_origin(DOMAIN) == f"https://{DOMAIN}"
    assert distribution_origin("127.0.0.1.evil.test") == "https://127.0.0.1.evil.test"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"path": "relative"}, "remote.path"),
        ({"path": "/x?y=1"}, "remote.path"),
        ({"timeout_seconds": 5}, "remote.timeout_seconds"),
        ({"ttl_seconds": 1}, "remote.ttl_seconds"),
        ({"retry_seconds": True}, "remote.retry_seconds"),
        ({"tll_seconds": 60}, "unknown key"),
        ([], "remote must be an object"),
    ],
)
def test_remote_settings_are_validated_with_the_key_named(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_remote_settings(section)


def test_load_bundled_refuses_a_document_path_the_edge_protects(signing_key):
    document = bundled(signing_key)
    document["public_paths"] = ["GET /api/v1/health"]
    with pytest.raises(ConfigError, match="protected path"):
        load_bundled(document)
    document["public_paths"] = [f"GET {CONFIG_PATH}"]
    assert load_bundled(document).issuers[0].issuer == ISSUER


def test_load_bundled_needs_an_issuer_of_its_own(signing_key):
    document = bundled(signing_key)
    document["issuers"] = []
    with pytest.raises(ConfigError, match="issuers"):
        load_bundled(document)


@pytest.fixture
def remote_edge(signing_key: SigningKey, other_key: SigningKey) -> Iterator[Origin]:
    origin = Origin(idp_document(other_key))
    document = bundled(signing_key)
    document["issuers"][0]["keys"] = [signing_key.public_jwk]
    handler.configure(document, clock=FrozenClock(NOW), config_fetch=origin)
    yield origin
    handler.configure(None)


def _with_domain(event: dict[str, Any]) -> dict[str, Any]:
    event["Records"][0]["cf"]["config"]["distributionDomainName"] = DOMAIN
    return event


def test_handler_accepts_an_idp_token_only_the_origin_document_names(remote_edge, other_key):
    token = other_key.mint(standard_claims(iss=IDP, aud="client-1", token_use="id"))
    result = handler.viewer_request(_with_domain(viewer_event(Authorization=f"Bearer {token}")))
    assert result["headers"]["x-auth-user"][0]["value"] == "user-1"
    assert [call[0] for call in remote_edge.calls] == [f"https://{DOMAIN}{CONFIG_PATH}"]


def test_handler_rejects_that_token_when_the_origin_is_down_and_serves_the_document_path(
    remote_edge, other_key, signing_key
):
    remote_edge.error = ConnectionRefusedError("refused")
    token = other_key.mint(standard_claims(iss=IDP, aud="client-1", token_use="id"))
    denied = handler.viewer_request(_with_domain(viewer_event(Authorization=f"Bearer {token}")))
    assert denied["status"] == "401"
    session = signing_key.mint(standard_claims())
    allowed = handler.viewer_request(_with_domain(viewer_event(Authorization=f"Bearer {session}")))
    assert allowed["headers"]["x-auth-user"][0]["value"] == "user-1", "bundled issuers keep working"
    document_request = handler.viewer_request(_with_domain(viewer_event(uri=CONFIG_PATH)))
    assert document_request["uri"] == CONFIG_PATH
    assert len(remote_edge.calls) == 1


def test_origin_request_uses_the_config_in_force_without_fetching(remote_edge):
    result = handler.origin_request(_with_domain(load_event("origin-request.json")))
    assert "x-flags" in result["headers"]
    assert remote_edge.calls == []


def test_flags_eval_reads_a_bundled_config_with_a_remote_section(signing_key, tmp_path, capsys):
    from saas_cli.main import main

    document = bundled(signing_key)
    document["flags"] = {"payload": {"features": {"beta": {"defaultValue": True}}}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    assert main(["flags", "eval", "--config", str(path)]) == 0
    assert "beta" in capsys.readouterr().out


def test_bundled_fallback_is_built_once_per_domain_and_holds_one(signing_key):
    origin = Origin({})
    origin.error = ConnectionRefusedError("down")
    source = RemoteConfig(bundled(signing_key), fetch=origin)
    first = source.config_for(cf(uri=CONFIG_PATH))
    assert source.config_for(cf(uri=CONFIG_PATH)) is first
    other = source.config_for(cf(uri=CONFIG_PATH, domain="d2.cloudfront.net"))
    assert other.issuers[0].jwks_url == "https://d2.cloudfront.net/.well-known/jwks.json"
    assert source.config_for(cf(uri=CONFIG_PATH)) is not first, "only the last domain's config is kept"
