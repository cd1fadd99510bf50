"""The dnspython resolver adapter against a DNS server on loopback: real queries, real wire answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rrset
import pytest

from api.exceptions import DnsLookupError
from api.services.dns_txt import DnsPythonResolver, txt_values

ZONE = {
    "_saas-verification.acme.example.": ['"saas-verification=" "abc123"', '"v=spf1 -all"'],
    "empty.acme.example.": [],
}


@pytest.fixture
def dns_server() -> Iterator[int]:
    """Answers TXT from ZONE; NXDOMAIN for other names; a name with no TXT set gets NOERROR, no answer."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = server.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            name = query.question[0].name.to_text()
            if name not in ZONE:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif ZONE[name]:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", *ZONE[name]))
            server.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


def test_txt_values_come_back_joined(dns_server: int) -> None:
    resolver = DnsPythonResolver(nameservers=["127.0.0.1"], port=dns_server, lifetime=2)
    values = txt_values(resolver.txt("_saas-verification.acme.example"))
    assert sorted(values) == ["saas-verification=abc123", "v=spf1 -all"]


def test_missing_names_and_empty_sets_are_no_values(dns_server: int) -> None:
    resolver = DnsPythonResolver(nameservers=["127.0.0.1"], port=dns_server, lifetime=2)
    assert resolver.txt("nothing.acme.example") == []
    assert resolver.txt("empty.acme.example") == []


def test_a_silent_server_is_a_dns_lookup_error_within_the_lifetime() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = DnsPythonResolver(nameservers=["127.0.0.1"], port=silent.getsockname()[1], lifetime=0.5)
        with pytest.raises(DnsLookupError, match="did not answer"):
            resolver.txt("acme.example")
