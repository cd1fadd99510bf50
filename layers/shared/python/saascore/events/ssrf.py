"""The SSRF guard for outbound webhooks: which URLs and which resolved addresses may be called.

A URL must be HTTPS, carry no credentials and name a host that resolves only to public unicast addresses.
Every address the resolver returns is checked (one bad record refuses the host) after resolution, so
numeric spellings the resolver accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are caught as the
addresses they are; IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the
embedded address. The caller connects to the vetted address itself (``saascore.events.outbound``), so a
second resolution (DNS rebinding) cannot swap it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from saascore.events.exceptions import UnsafeUrlError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_CHARS: Final = 2048

# Beyond what `ipaddress` flags (private, loopback, link-local, multicast, reserved, unspecified): shared
# address space (CGNAT), IETF protocol assignments, benchmarking, documentation, the cloud metadata
# addresses, Teredo (embeds an address we cannot check).
_FORBIDDEN_NETWORKS: Final = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "fd00:ec2::254/128",
        "2001::/32",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK: Final = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@dataclass(frozen=True, slots=True)
class Target:
    """A vetted URL: connect to `address`, present `host` (SNI, Host header)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated) is still routed as IPv4 by some stacks.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_loopback(inner)
    return any(address in network for network in _LOOPBACK if address.version == network.version)


def is_forbidden(address: IPAddress) -> bool:
    """True for anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return True
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_forbidden(inner)
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return True
    return any(address in network for network in _FORBIDDEN_NETWORKS if address.version == network.version)


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrlError(f"the host {host!r} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


def parse_url(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int, str]:
    """(scheme, host, port, path-and-query) of an acceptable URL, before resolution."""
    if len(url) > MAX_URL_CHARS:
        raise UnsafeUrlError(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise UnsafeUrlError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"the URL is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or (scheme == "http" and not allow_loopback):
        raise UnsafeUrlError("the URL must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrlError("the URL must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrlError("the URL has no host")
    if "%" in host:
        raise UnsafeUrlError("scoped IPv6 addresses are not allowed")
    if parts.fragment:
        raise UnsafeUrlError("the URL must not contain a fragment")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def vet(url: str, *, allow_loopback: bool = False, resolve: Resolver = system_resolver) -> Target:
    """Parse, resolve and check ``url``; raises UnsafeUrlError naming the reason."""
    scheme, host, port, path = parse_url(url, allow_loopback=allow_loopback)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if scheme == "http" and not (host == "localhost" or (literal is not None and is_loopback(literal))):
        raise UnsafeUrlError("the URL must use https")
    addresses = [host.strip("[]")] if literal is not None else list(resolve(host, port))
    if not addresses:
        raise UnsafeUrlError(f"the host {host!r} does not resolve")
    vetted: list[IPAddress] = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise UnsafeUrlError(f"the host {host!r} resolved to an unusable address") from exc
        if allow_loopback and is_loopback(address):
            vetted.append(address)
            continue
        if is_forbidden(address):
            raise UnsafeUrlError(
                f"the host {host!r} resolves to a private, loopback, link-local or otherwise non-public address"
            )
        if scheme != "https":
            raise UnsafeUrlError("the URL must use https")
        vetted.append(address)
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(vetted[0]))
