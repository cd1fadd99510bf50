"""One outbound POST to a vetted target: connect to the vetted address (never re-resolve), TLS verified
against the URL's host name, no redirects followed, bounded time and response size.

`http.client` follows no redirects and reads no proxy settings; the connection is opened to
``Target.address`` and the TLS handshake names ``Target.host`` (SNI and certificate check).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from saascore.events.exceptions import OutboundRequestError
from saascore.events.ssrf import Target

USER_AGENT: Final = "saas-webhooks/1"
READ_CHUNK: Final = 8192


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status: int
    body: bytes  # at most max_response_bytes
    duration_ms: int


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=_tls_context())
        self._target = target

    def connect(self) -> None:
        raw = socket.create_connection((self._target.address, self._target.port), timeout=self.timeout)
        self.sock = _tls_context().wrap_socket(raw, server_hostname=self._target.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP, only ever to a loopback address the guard allowed (tests, the local stack)."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        self.sock = socket.create_connection((self._target.address, self._target.port), timeout=self.timeout)


def post(
    target: Target,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    total_timeout: float,
    max_response_bytes: int,
) -> OutboundResponse:
    """POST ``body``; any HTTP status is an answer (the caller judges it), transport trouble raises."""
    started = time.monotonic()
    deadline = started + total_timeout
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, connect_timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, connect_timeout)
    )
    try:
        connection.connect()
        sock = connection.sock  # getresponse() drops the connection's reference on "connection: close"
        assert sock is not None
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={**headers, "user-agent": USER_AGENT, "connection": "close"},
        )
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        response = connection.getresponse()
        received = bytearray()
        while len(received) <= max_response_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutboundRequestError(f"no complete answer within {total_timeout:g} s")
            if sock.fileno() != -1:  # http.client may close its handle early ("connection: close")
                sock.settimeout(remaining)
            chunk = response.read(min(READ_CHUNK, max_response_bytes + 1 - len(received)))
            if not chunk:
                break
            received.extend(chunk)
        return OutboundResponse(
            status=response.status,
            body=bytes(received[:max_response_bytes]),
            duration_ms=round((time.monotonic() - started) * 1000),
        )
    except TimeoutError as exc:
        raise OutboundRequestError(f"no complete answer within {total_timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise OutboundRequestError(f"TLS failed: {exc.reason or exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise OutboundRequestError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
