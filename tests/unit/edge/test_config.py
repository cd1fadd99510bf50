from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge import config as edge_config
from edge.config import (
    DEFAULT_PUBLIC_PATHS,
    ConfigError,
    PathRule,
    get_config,
    is_canonical_path,
    load_config,
    use_config,
)
from tests.support.tokens import AUDIENCE, ISSUER, SigningKey


def minimal(key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {"issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [key.public_jwk]}], **extra}


def test_minimal_config_gets_documented_defaults(signing_key: SigningKey) -> None:
    config = load_config(minimal(signing_key))
    assert config.issuers[0].algorithms == ("RS256",)
    assert config.cookies.session == "__Host-session"
    assert config.limits.max_token_bytes == 8192
    assert config.is_public("GET", "/api/v1/health")
    assert config.is_public("HEAD", "/api/v1/health")
    assert not config.is_public("DELETE", "/api/v1/health")
    assert config.is_public("POST", "/webhooks/stripe")
    assert not config.is_public("GET", "/_local/token")
    assert not config.is_public("GET", "/api/v1/projects")
    assert not config.is_public("GET", "/index.html")
    assert len(config.public_paths) == len(DEFAULT_PUBLIC_PATHS)


def test_full_config_round_trip(signing_key: SigningKey) -> None:
    config = load_config(
        minimal(
            signing_key,
            public_paths=[*DEFAULT_PUBLIC_PATHS, "* /_local/*"],
            jwks={"ttl_seconds": 300, "min_refresh_seconds": 10, "timeout_seconds": 1},
            cookies={"anonymous": "visitor", "anonymous_max_age_seconds": 3600},
            limits={"max_body_bytes": 1000, "token_cache_size": 10},
            flags={
                "payload": {"features": {}},
                "refresh_url": "https://bucket.s3.amazonaws.com/flags.json",
                "forward": ["a"],
            },
            origins_by_country={"DE": "eu.example.com"},
            security_headers={"x-frame-options": None, "Content-Security-Policy": "default-src 'none'"},
        )
    )
    assert config.is_public("PUT", "/_local/anything")
    assert config.jwks.ttl_seconds == 300
    assert config.cookies.anonymous == "visitor"
    assert config.limits.max_body_bytes == 1000
    assert config.flags.forward == ("a",)
    headers = dict(config.security_headers)
    assert "x-frame-options" not in headers
    assert headers["content-security-policy"] == "default-src 'none'"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuers": []}, "issuers must be a non-empty list"),
        ({"unknown": 1}, "unknown key"),
        ({"limits": {"max_tokn_bytes": 1}}, "limits: unknown key"),
        ({"limits": {"max_token_bytes": 10}}, "limits.max_token_bytes"),
        ({"limits": {"max_body_bytes": True}}, "limits.max_body_bytes"),
        ({"public_paths": ["/no-method"]}, "public_paths"),
        ({"public_paths": ["GET /a*b"]}, "public_paths"),
        ({"public_paths": ["GET /API/v1/health"]}, "not canonical"),
        ({"public_paths": ["GET /api//health"]}, "not canonical"),
        ({"public_paths": ["GET /api/../health"]}, "not canonical"),
        ({"public_paths": ["GET /api%2Fhealth"]}, "not canonical"),
        ({"public_paths": ["GET /api/health/"]}, "not canonical"),
        ({"protected_paths": ["* /api/*"]}, "unknown key"),
        ({"cookies": {"session": ""}}, "cookies.session"),
        ({"origins_by_country": {"germany": "x"}}, "origins_by_country"),
        ({"flags": {"refresh_url": "http://evil.test/flags.json"}}, "flags.refresh_url"),
        ({"flags": {"payload": []}}, "flags.payload"),
        ({"jwks": {"ttl_seconds": 0}}, "jwks.ttl_seconds"),
    ],
)
def test_invalid_config_names_the_key(signing_key: SigningKey, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        load_config({**minimal(signing_key), **change})


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ({"issuer": ISSUER, "audiences": [AUDIENCE]}, "pinned keys or a jwks_url"),
        (
            {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": "https://x", "algorithms": ["ES384"]},
            "algorithms",
        ),
        ({"issuer": ISSUER, "jwks_url": "https://x"}, "audiences or client_ids"),
        ({"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": "https://x", "leeway": 5}, "unknown key"),
        (
            {"issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ["HS256"], "hs256_secret": "c2hvcnQ"},
            "HS256",
        ),
        (
            {"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]},
            "modulus",
        ),
        ({"issuer": ISSUER, "jwks_url": "https://x", "token_uses": {}}, "token_uses"),
        ({"issuer": ISSUER, "jwks_url": "https://x", "token_uses": {"id": {"aud": ["a"]}}}, "unknown key"),
        ({"issuer": ISSUER, "jwks_url": "https://x", "token_uses": {"id": {}}}, "audiences or client_ids"),
        (
            {
                "issuer": ISSUER,
                "jwks_url": "https://x",
                "audiences": ["a"],
                "token_uses": {"id": {"audiences": ["a"]}},
            },
            "not both",
        ),
        (
            {"issuer": ISSUER, "jwks_url": "https://x", "audiences": ["a"], "max_lifetime_seconds": 5},
            "max_lifetime",
        ),
    ],
)
def test_invalid_issuer_is_refused(issuer: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({"issuers": [issuer]})


def test_hs256_issuer_from_base64url_secret() -> None:
    config = load_config(
        {
            "issuers": [
                {"issuer": "dev", "audiences": ["a"], "algorithms": ["HS256"], "hs256_secret": "A" * 43}
            ]
        }
    )
    assert config.issuers[0].hs256_secret == bytes(32)


def test_one_cognito_issuer_with_access_and_id_token_uses() -> None:
    config = load_config(
        {
            "issuers": [
                {
                    "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
                    "jwks_url": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json",
                    "algorithms": ["RS256", "ES256"],
                    "token_uses": {"access": {"client_ids": ["c1"]}, "id": {"audiences": ["c1"]}},
                    "max_lifetime_seconds": 86400,
                }
            ]
        }
    )
    issuer = config.issuers[0]
    assert issuer.algorithms == ("RS256", "ES256")
    assert issuer.max_lifetime_seconds == 86400
    assert [(rule.token_use, rule.audiences, rule.client_ids) for rule in issuer.rules] == [
        ("access", (), ("c1",)),
        ("id", ("c1",), ()),
    ]


def test_canonical_public_paths_only() -> None:
    config = load_config({"issuers": [{"issuer": ISSUER, "audiences": ["a"], "jwks_url": "https://x"}]})
    assert config.is_public("GET", "/.well-known/jwks.json")
    for spelling in ("/.well-known/../api/v1/health", "/api/v1/health/.", "/api/v1/health\\"):
        assert not config.is_public("GET", spelling)
    assert is_canonical_path("/")
    assert is_canonical_path("/a/.b/c~d_e-f")
    assert not any(
        is_canonical_path(path) for path in ("", "a", "/a/", "/a/./b", "/a/../b", "/..", "/A", "/%41")
    )


def test_path_rules() -> None:
    assert PathRule("GET", "/_local/*").matches("GET", "/_local/x/y")
    assert not PathRule("GET", "/_local/*").matches("GET", "/_localx")
    assert PathRule("*", "/a").matches("DELETE", "/a")
    assert not PathRule("POST", "/a").matches("GET", "/a")


def test_get_config_reads_bundled_file_lazily(
    signing_key: SigningKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(minimal(signing_key)))
    monkeypatch.setattr(edge_config, "CONFIG_FILE", path)
    monkeypatch.delenv(edge_config.CONFIG_PATH_ENV, raising=False)
    use_config(None)
    try:
        assert get_config().issuers[0].issuer == ISSUER
        assert get_config() is get_config()
    finally:
        use_config(None)


def test_missing_config_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge_config, "CONFIG_FILE", tmp_path / "absent.json")
    monkeypatch.delenv(edge_config.CONFIG_PATH_ENV, raising=False)
    use_config(None)
    with pytest.raises(ConfigError, match="cannot read"):
        get_config()
