"""The local stack's DNS for SSO domain verification: TXT records only, served on loopback UDP.

Domain verification (`POST /api/v1/sso/domains/{id}/verify`) looks up `_saas-verification.<domain>` TXT; with
no internet (and no real zone) locally, the API's resolver is pointed here (`SSO_DNS_SERVER`, set by
`local/environment.py`). Records live in `<root>/dns-zone.json` (`{name: [value, ...]}`), read on every query,
so `saas dev txt NAME VALUE` takes effect at once. Every other name is NXDOMAIN; other types get no answer.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

ZONE_FILE = "dns-zone.json"
MAX_TXT_CHUNK = 255  # one TXT character-string; longer values are split, as publishers do
log = logging.getLogger("dns")


def zone_path(root: Path) -> Path:
    return root / ZONE_FILE


def read_zone(path: Path) -> dict[str, list[str]]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {str(name).rstrip(".").lower(): [str(v) for v in values] for name, values in dict(raw).items()}


def publish(path: Path, name: str, value: str) -> list[str]:
    """Add one TXT value at ``name`` (kept once); the record's values after it."""
    zone = read_zone(path)
    values = zone.setdefault(name.rstrip(".").lower(), [])
    if value not in values:
        values.append(value)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(zone, indent=2, sort_keys=True))
    tmp.replace(path)
    return values


def _quoted(value: str) -> str:
    chunks = [value[i : i + MAX_TXT_CHUNK] for i in range(0, len(value), MAX_TXT_CHUNK)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


def answer(wire: bytes, zone: dict[str, list[str]]) -> bytes | None:
    """The response to one query; None for what is not a DNS query at all."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(query)
    for question in query.question:
        name = question.name.to_text(omit_final_dot=True).lower()
        if name not in zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            texts = [_quoted(value) for value in zone[name]]
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", *texts))
    return response.to_wire()


class LocalDns:
    """A UDP server on 127.0.0.1:<port> answering from the zone file; ``stop()`` ends it."""

    def __init__(self, root: Path, port: int) -> None:
        self.zone_file = zone_path(root)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", port))
        self.socket.settimeout(0.2)
        self.port = int(self.socket.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dns", daemon=True)

    def start(self) -> LocalDns:
        self._thread.start()
        log.info("local DNS (TXT) on 127.0.0.1:%d from %s", self.port, self.zone_file)
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = answer(wire, read_zone(self.zone_file))
            if reply is not None:
                self.socket.sendto(reply, peer)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()
