"""OIDC issuer discovery (OpenID Connect Discovery 1.0 §4), checked before Cognito is told of the issuer.

Cognito discovers the endpoints itself from ``oidc_issuer``; fetching the document first turns an
unreachable or mistyped issuer into a clear answer to the admin instead of a provider that can never
sign anyone in. The issuer in the document must equal the configured one exactly (§4.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from api.exceptions import OidcDiscoveryError, OutboundFetchError
from api.services.outbound_http import LOOPBACK_HOSTS, fetch

MAX_DISCOVERY_BYTES = 64 * 1024
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True, slots=True)
class OidcProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _acceptable_endpoint(url: str, *, allow_loopback: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return allow_loopback and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def discover(issuer: str, *, timeout: float, allow_loopback: bool = False) -> OidcProviderMetadata:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        body = fetch(
            url,
            timeout=timeout,
            max_bytes=MAX_DISCOVERY_BYTES,
            accept="application/json",
            allow_loopback=allow_loopback,
        )
    except OutboundFetchError as exc:
        raise OidcDiscoveryError(f"the issuer's discovery document could not be fetched: {exc}") from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise OidcDiscoveryError("the issuer's discovery document is not JSON") from exc
    if not isinstance(document, dict):
        raise OidcDiscoveryError("the issuer's discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise OidcDiscoveryError("the discovery document names a different issuer")
    endpoints: dict[str, str] = {}
    for name in REQUIRED_ENDPOINTS:
        value = document.get(name)
        if not isinstance(value, str) or not _acceptable_endpoint(value, allow_loopback=allow_loopback):
            raise OidcDiscoveryError(f"the discovery document has no https {name}")
        endpoints[name] = value
    return OidcProviderMetadata(issuer=issuer, **endpoints)
