"""Outbound POSTs over real sockets: the vetted address is the one connected to (the host name is only
sent), slow answers time out, oversized answers are cut at the cap, and TLS is verified."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from saascore.events.exceptions import OutboundRequestError
from saascore.events.outbound import post
from saascore.events.ssrf import Target


def serve(answer: bytes, *, delay: float = 0.0) -> tuple[int, list[bytes], threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            seen.append(conn.recv(65536))
            time.sleep(delay)
            with contextlib.suppress(OSError):
                conn.sendall(answer)
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], seen, thread


def target(port: int, *, scheme: str = "http", host: str = "hooks.example") -> Target:
    return Target(scheme=scheme, host=host, port=port, path="/in", address="127.0.0.1")


def call(port: int, **overrides: object):
    options = {"connect_timeout": 1.0, "total_timeout": 2.0, "max_response_bytes": 1024, **overrides}
    return post(target(port), body=b"{}", headers={"content-type": "application/json"}, **options)  # type: ignore[arg-type]


def test_connects_to_the_vetted_address_and_sends_the_host_name():
    port, seen, thread = serve(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
    response = call(port)  # "hooks.example" is never resolved: the socket goes to 127.0.0.1
    thread.join(2)
    assert response.status == 204
    assert b"Host: hooks.example:" in seen[0]
    assert b"POST /in HTTP/1.1" in seen[0]


def test_a_slow_answer_times_out():
    port, _, thread = serve(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", delay=1.5)
    started = time.monotonic()
    with pytest.raises(OutboundRequestError, match="within"):
        call(port, total_timeout=0.5)
    assert time.monotonic() - started < 1.4
    thread.join(3)


def test_an_oversized_answer_is_cut_at_the_cap():
    body = b"x" * 100_000
    port, _, thread = serve(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
    response = call(port, max_response_bytes=2048)
    thread.join(2)
    assert response.status == 200
    assert len(response.body) == 2048


def test_tls_is_verified_against_the_host_name():
    port, _, thread = serve(b"not tls at all")
    with pytest.raises(OutboundRequestError):
        post(
            target(port, scheme="https"),
            body=b"{}",
            headers={},
            connect_timeout=1.0,
            total_timeout=2.0,
            max_response_bytes=1024,
        )
    thread.join(2)


@pytest.fixture(autouse=True)
def _no_proxy_influence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://10.9.9.9:3128")  # http.client never reads it
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
