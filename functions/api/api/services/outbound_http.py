"""Bounded GET of documents a tenant names (SAML metadata, OIDC discovery), safe against SSRF.

A tenant admin chooses the URL, so the fetch must not become a way into the VPC: only ``https`` on port
443; the host is resolved once and every address must be globally routable (no loopback, private,
link-local — the instance metadata service — or reserved ranges); the connection goes to that vetted
address (a second resolution could answer differently: DNS rebinding) with TLS verified against the
host name; redirects are not followed; the whole exchange has one deadline and a byte limit. The local
stack and tests may allow plain ``http`` to loopback, nothing else.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from api.exceptions import OutboundFetchError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CHUNK_BYTES = 16 * 1024

Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundFetchError(f"the host {host} could not be resolved") from exc
    return sorted({str(info[4][0]) for info in infos})


def _vetted_address(host: str, port: int, *, allow_loopback: bool, resolve: Resolver) -> str:
    addresses = resolve(host, port)
    if not addresses:
        raise OutboundFetchError(f"the host {host} could not be resolved")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_loopback and allow_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise OutboundFetchError(f"the host {host} resolves to an address that is not public")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a vetted address while TLS (SNI, certificate) checks the URL's host name."""

    def __init__(self, host: str, address: str, *, port: int, timeout: float) -> None:
        super().__init__(host, port=port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, *, port: int, timeout: float) -> None:
        super().__init__(host, port=port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    accept: str,
    allow_loopback: bool = False,
    resolve: Resolver = resolve_host,
) -> bytes:
    """The body of a 200 answer to GET ``url``, or ``OutboundFetchError`` with a client-safe reason."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        raise OutboundFetchError("the URL must name a host and no credentials")
    loopback = allow_loopback and host in LOOPBACK_HOSTS
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundFetchError("the URL has an invalid port") from exc
    if parts.scheme == "https" and (port == 443 or loopback):
        connection_class: type[_PinnedHTTPConnection | _PinnedHTTPSConnection] = _PinnedHTTPSConnection
    elif parts.scheme == "http" and loopback:
        connection_class = _PinnedHTTPConnection
    else:
        raise OutboundFetchError("the URL must be https on port 443")
    address = _vetted_address(host, port, allow_loopback=allow_loopback, resolve=resolve)
    deadline = time.monotonic() + timeout
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(host, address, port=port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"Accept": accept, "User-Agent": "saas-sso/1"})
        response = connection.getresponse()
        if response.status != 200:
            raise OutboundFetchError(f"the server answered HTTP {response.status}")
        body = bytearray()
        while chunk := response.read(CHUNK_BYTES):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise OutboundFetchError(f"the document is larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise OutboundFetchError(f"the server did not answer within {timeout:g} s")
        return bytes(body)
    except (OSError, http.client.HTTPException) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else "could not be reached"
        raise OutboundFetchError(f"the server {reason}") from exc
    finally:
        connection.close()
