"""The SSRF guard of tenant-named fetches: which URLs and resolved addresses are refused, before connecting."""

from __future__ import annotations

import re

import pytest

from api.exceptions import OutboundFetchError
from api.services.outbound_http import fetch
from api.services.sso import provider_name


def _resolving_to(*addresses: str):
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("http://idp.example/x", ("93.184.216.34",), "https on port 443"),
        ("https://idp.example:8443/x", ("93.184.216.34",), "https on port 443"),
        ("https://user:pw@idp.example/x", ("93.184.216.34",), "no credentials"),
        ("https://idp.example/x", ("10.0.0.5",), "not public"),
        ("https://idp.example/x", ("93.184.216.34", "192.168.1.1"), "not public"),
        ("https://idp.example/x", ("169.254.169.254",), "not public"),
        ("https://idp.example/x", ("127.0.0.1",), "not public"),
        ("https://idp.example/x", ("::1",), "not public"),
        ("https://idp.example/x", ("fd00::1",), "not public"),
        ("https://idp.example/x", ("::ffff:10.0.0.1",), "not public"),
        ("https://idp.example/x", ("100.64.0.1",), "not public"),
        ("https://idp.example/x", (), "could not be resolved"),
        ("http://127.0.0.1:9/x", ("127.0.0.1",), "https on port 443"),
    ],
)
def test_refused_before_any_connection(url, addresses, reason):
    with pytest.raises(OutboundFetchError, match=reason):
        fetch(url, timeout=1, max_bytes=10, accept="*/*", resolve=_resolving_to(*addresses))


def test_loopback_only_when_allowed_and_nothing_else_private():
    with pytest.raises(OutboundFetchError, match="not public"):
        fetch(
            "https://idp.example/x",
            timeout=1,
            max_bytes=10,
            accept="*/*",
            allow_loopback=True,
            resolve=_resolving_to("10.1.2.3"),
        )


def test_provider_names_fit_cognitos_rules():
    import uuid

    names = {provider_name(uuid.uuid4(), uuid.uuid4()) for _ in range(200)}
    assert len(names) == 200
    for name in names:
        # ProviderName: 1..32 characters, pattern [^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+
        assert 1 <= len(name) <= 32
        assert re.fullmatch(r"[^_\s][\w\-]+[^_\s]", name)
    tenant = uuid.UUID("0123456789ab4def8000000000000001")
    connection = uuid.UUID("fedcba9876544321a000000000000002")
    # Derived from the ids alone, so a retry after a failed write names the same provider.
    assert provider_name(tenant, connection) == "sso-0123456789ab-fedcba987654"
