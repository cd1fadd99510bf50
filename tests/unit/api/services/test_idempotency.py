"""The idempotency fingerprint covers method, path and body."""

from __future__ import annotations

from api.services.idempotency import request_fingerprint


def test_fingerprint_covers_method_path_and_body():
    base = request_fingerprint("POST", "/a", b"{}")
    assert base != request_fingerprint("PATCH", "/a", b"{}")
    assert base != request_fingerprint("POST", "/b", b"{}")
    assert base != request_fingerprint("POST", "/a", b"{ }")
