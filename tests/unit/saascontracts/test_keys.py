from __future__ import annotations

import json
from typing import Any

import pytest

from saascontracts.fetch import FetchError
from saascontracts.keys import MAX_JWKS_BYTES, JwkError, JwksCache, fetch_url, parse_jwks
from saascontracts.tokens import IssuerConfig, TokenError, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, FrozenClock, SigningKey, make_key, standard_claims

URL = "https://issuer.test/.well-known/jwks.json"


class ScriptedFetch:
    """Answers each fetch with the next scripted document or error, recording calls."""

    def __init__(self, *answers: bytes | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, url: str, timeout: float) -> bytes:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def jwks(*keys: SigningKey) -> bytes:
    return json.dumps({"keys": [key.public_jwk for key in keys]}).encode()


def test_fetched_lazily_then_cached_for_ttl(signing_key: SigningKey) -> None:
    fetch = ScriptedFetch(jwks(signing_key))
    monotonic = FrozenClock(0)
    cache = JwksCache(URL, fetch=fetch, monotonic=monotonic, ttl_seconds=600, min_refresh_seconds=30)
    assert fetch.calls == 0
    assert set(cache.keys()) == {"key-1"}
    monotonic.now = 599
    cache.keys()
    assert fetch.calls == 1
    monotonic.now = 600
    cache.keys()
    assert fetch.calls == 2


def test_unknown_kid_refreshes_at_most_once_per_interval(
    signing_key: SigningKey, other_key: SigningKey
) -> None:
    fetch = ScriptedFetch(jwks(signing_key), jwks(signing_key), jwks(signing_key, other_key))
    monotonic = FrozenClock(0)
    cache = JwksCache(URL, fetch=fetch, monotonic=monotonic, min_refresh_seconds=30)
    cache.keys()
    monotonic.now = 10
    for _ in range(50):
        assert "key-2" not in cache.keys(want_kid="key-2")
    assert fetch.calls == 1
    monotonic.now = 30
    assert "key-2" not in cache.keys(want_kid="key-2")
    monotonic.now = 60
    assert "key-2" in cache.keys(want_kid="key-2")
    assert fetch.calls == 3


@pytest.mark.parametrize("failure", [OSError("connection refused"), b"not json", b'{"keys": []}', b"[]"])
def test_last_good_set_kept_when_refresh_fails(signing_key: SigningKey, failure: bytes | Exception) -> None:
    fetch = ScriptedFetch(jwks(signing_key), failure)
    monotonic = FrozenClock(0)
    cache = JwksCache(URL, fetch=fetch, monotonic=monotonic, ttl_seconds=60, min_refresh_seconds=30)
    cache.keys()
    monotonic.now = 61
    assert set(cache.keys()) == {"key-1"}
    assert fetch.calls == 2
    assert cache.last_error


def test_verifier_picks_up_rotated_key_after_rate_limit(
    signing_key: SigningKey, other_key: SigningKey
) -> None:
    fetch = ScriptedFetch(jwks(signing_key), jwks(signing_key, other_key))
    monotonic = FrozenClock(0)
    config = IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), jwks_url=URL)
    verifier = TokenVerifier(
        [config], clock=FrozenClock(), fetch=fetch, monotonic=monotonic, jwks_min_refresh_seconds=30
    )
    assert verifier.verify(signing_key.mint(standard_claims()))["sub"] == "user-1"
    rotated = other_key.mint(standard_claims())
    monotonic.now = 10
    with pytest.raises(TokenError, match="unknown signing key"):
        verifier.verify(rotated)
    monotonic.now = 31
    assert verifier.verify(rotated)["sub"] == "user-1"
    assert fetch.calls == 2
    with pytest.raises(TokenError, match="unknown signing key"):
        verifier.verify(make_key("key-3").mint(standard_claims()))
    assert fetch.calls == 2


def test_jwks_skips_unusable_keys(signing_key: SigningKey) -> None:
    weak = make_key("weak", bits=1024)
    document: dict[str, Any] = {
        "keys": [
            weak.public_jwk,
            {**signing_key.public_jwk, "kid": "enc", "use": "enc"},
            {**signing_key.public_jwk, "kid": "es", "alg": "ES256"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {**signing_key.public_jwk, "kid": "bad-n", "n": "not base64!"},
            signing_key.public_jwk,
        ]
    }
    assert set(parse_jwks(json.dumps(document).encode())) == {"key-1"}
    with pytest.raises(JwkError, match="too large"):
        parse_jwks(b" " * (MAX_JWKS_BYTES + 1))


@pytest.mark.parametrize(
    "url", ["http://issuer.test/jwks", "file:///etc/passwd", "http://localhost.evil.test/x"]
)
def test_fetch_refuses_non_https(url: str) -> None:
    with pytest.raises(FetchError, match="https"):
        fetch_url(url, 1.0)
