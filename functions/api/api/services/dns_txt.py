"""The DNS adapter domain verification uses: TXT records of one name, through dnspython.

A TXT record is one or more character-strings (RFC 1035 §3.3.14) that publishers split at 255 bytes; a value
is the concatenation of one record's strings (RFC 7208 §3.3 reads them the same way). ``txt_values`` is that
parsing, shared by the real resolver and tests' resolvers, which hand it real dnspython rdata.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

import dns.exception
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.TXT import TXT

from api.exceptions import DnsLookupError
from api.settings import get_settings

LOOKUP_SECONDS = 3.0


class TxtResolver(Protocol):
    def txt(self, name: str) -> list[TXT]:
        """The TXT rdata at ``name``; [] when the name or its TXT set does not exist."""
        ...


def txt_values(records: Iterable[TXT]) -> list[str]:
    values = []
    for record in records:
        joined = b"".join(record.strings)
        values.append(joined.decode("utf-8", errors="replace"))
    return values


class DnsPythonResolver:
    """The system's resolvers, one bounded lookup (no search domains: names are absolute)."""

    def __init__(
        self, *, lifetime: float = LOOKUP_SECONDS, nameservers: list[str] | None = None, port: int = 53
    ) -> None:
        self._resolver = dns.resolver.Resolver(configure=nameservers is None)
        if nameservers is not None:
            self._resolver.nameservers = nameservers
            self._resolver.port = port
        self._resolver.lifetime = lifetime

    def txt(self, name: str) -> list[TXT]:
        try:
            answer = self._resolver.resolve(name.rstrip(".") + ".", dns.rdatatype.TXT, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsLookupError(f"the DNS lookup of {name} did not answer; try again") from exc
        except dns.exception.DNSException as exc:
            raise DnsLookupError(f"the DNS lookup of {name} failed ({type(exc).__name__})") from exc
        return [record for record in answer if isinstance(record, TXT)]


def resolver_for(server: str | None) -> TxtResolver:
    """The system's resolvers, or the one DNS server ``host:port`` names (SSO_DNS_SERVER)."""
    if not server:
        return DnsPythonResolver()
    host, _, port = server.rpartition(":")
    return DnsPythonResolver(nameservers=[host], port=int(port))


@lru_cache(maxsize=1)
def get_txt_resolver() -> TxtResolver:
    return resolver_for(get_settings().sso_dns_server)
