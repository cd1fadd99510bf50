"""JWKS and flags payloads fetched over real HTTP from a server on 127.0.0.1 (the stdlib fetcher)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from edge import handler
from saascontracts.tokens import IssuerConfig, TokenError, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, NOW, FrozenClock, SigningKey, standard_claims


class Documents:
    def __init__(self) -> None:
        self.bodies: dict[str, tuple[int, bytes]] = {}
        self.hits: dict[str, int] = {}


@pytest.fixture
def server() -> Iterator[tuple[str, Documents]]:
    documents = Documents()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            documents.hits[self.path] = documents.hits.get(self.path, 0) + 1
            status, body = documents.bodies.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", documents
    finally:
        httpd.shutdown()
        httpd.server_close()


def jwks(*keys: SigningKey) -> bytes:
    return json.dumps({"keys": [key.public_jwk for key in keys]}).encode()


def test_jwks_fetched_over_http_with_rotation_and_last_good(
    server: tuple[str, Documents], signing_key: SigningKey, other_key: SigningKey
) -> None:
    base, documents = server
    documents.bodies["/.well-known/jwks.json"] = (200, jwks(signing_key))
    monotonic = FrozenClock(0)
    verifier = TokenVerifier(
        [IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), jwks_url=f"{base}/.well-known/jwks.json")],
        clock=FrozenClock(NOW),
        monotonic=monotonic,
        jwks_ttl_seconds=60,
        jwks_min_refresh_seconds=30,
    )
    assert verifier.verify(signing_key.mint(standard_claims()))["sub"] == "user-1"
    documents.bodies["/.well-known/jwks.json"] = (200, jwks(signing_key, other_key))
    monotonic.now = 31
    assert verifier.verify(other_key.mint(standard_claims()))["sub"] == "user-1"
    documents.bodies["/.well-known/jwks.json"] = (500, b"down")
    monotonic.now = 200
    # Refresh fails (HTTP 500), the last good set still verifies.
    assert verifier.verify(signing_key.mint(standard_claims(sub="user-2")))["sub"] == "user-2"
    assert verifier.jwks_caches[0].last_error
    assert documents.hits["/.well-known/jwks.json"] == 3


def test_unreachable_jwks_refuses_tokens(signing_key: SigningKey) -> None:
    verifier = TokenVerifier(
        [IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), jwks_url="http://127.0.0.1:9/jwks.json")],
        clock=FrozenClock(NOW),
        jwks_timeout_seconds=0.5,
    )
    with pytest.raises(TokenError, match="unknown signing key"):
        verifier.verify(signing_key.mint(standard_claims()))


def test_handler_refreshes_flags_from_url_with_stale_if_error(
    server: tuple[str, Documents], signing_key: SigningKey
) -> None:
    base, documents = server
    documents.bodies["/flags.json"] = (
        200,
        json.dumps({"features": {"banner": {"defaultValue": "fresh"}}}).encode(),
    )
    monotonic = FrozenClock(0)
    handler.configure(
        {
            "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": f"{base}/jwks.json"}],
            "flags": {
                "payload": {"features": {"banner": {"defaultValue": "bundled"}}},
                "refresh_url": f"{base}/flags.json",
                "refresh_ttl_seconds": 60,
            },
        },
        clock=FrozenClock(NOW),
        monotonic=monotonic,
    )
    try:
        event = {"Records": [{"cf": {"request": {"uri": "/", "method": "GET", "headers": {}}}}]}

        def banner() -> Any:
            request = handler.origin_request(json.loads(json.dumps(event)))
            return json.loads(request["headers"]["x-flags"][0]["value"])["banner"]

        assert banner() == "fresh"
        documents.bodies["/flags.json"] = (503, b"")
        monotonic.now = 61
        assert banner() == "fresh"
        assert documents.hits["/flags.json"] == 2
    finally:
        handler.configure(None)
