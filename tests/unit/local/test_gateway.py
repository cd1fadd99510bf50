"""The gateway's HTTP server: one write per response on a no-delay socket, problem+json for every refusal."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.events import HttpRequest, HttpResponse
from local.gateway import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_URL_BYTES,
    EdgeFunctions,
    Gateway,
    GatewayServer,
)
from local.runtime import LocalFunction

MODULE = "tests.unit.local.handlers_for_tests"


class RecordingSocket:
    """The accepted connection, recording what the handler does to it (a real socket underneath)."""

    def __init__(self, sock: socket.socket, log: list[tuple[str, Any]]) -> None:
        self._sock = sock
        self._log = log

    def sendall(self, data: bytes) -> None:
        self._log.append(("sendall", bytes(data)))
        self._sock.sendall(data)

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self._log.append(("setsockopt", (level, option, value)))
        self._sock.setsockopt(level, option, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class RecordingServer(GatewayServer):
    def __init__(self, gateway: Gateway) -> None:
        self.calls: list[tuple[str, Any]] = []
        super().__init__(("127.0.0.1", 0), gateway)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        return RecordingSocket(sock, self.calls), address


def fn(name: str) -> LocalFunction:
    return LocalFunction(name, f"{MODULE}.{name}", timeout=5)


def local_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, [("content-type", "application/json")], b'{"page": "local"}')


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    edge = EdgeFunctions(fn("viewer_request"), fn("origin_request"), fn("viewer_response"))
    gateway = Gateway(edge=edge, api=fn("origin"), receiver=fn("origin"), local_page=local_page)
    running = RecordingServer(gateway)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def address(server: GatewayServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def exchange(server: GatewayServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a fresh connection, read one response (the server closes it or we read its length)."""
    with socket.create_connection(address(server), timeout=10) as conn:
        conn.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"connection closed before a response: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        while len(body) < int(headers.get("content-length", "0")):
            chunk = conn.recv(65536)
            assert chunk
            body += chunk
    return int(status_line.split()[1]), headers, body


def assert_problem(headers: dict[str, str], body: bytes, status: int) -> dict[str, Any]:
    assert headers["content-type"] == "application/problem+json", body
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status
    assert problem["title"]
    return problem


def test_keep_alive_responses_go_out_in_one_write_on_a_no_delay_socket(server: RecordingServer) -> None:
    request = b"GET /_local/status HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(address(server), timeout=10) as conn:
        for _ in range(3):
            conn.sendall(request)
            data = b""
            while not data.endswith(b'{"page": "local"}'):
                chunk = conn.recv(65536)
                assert chunk
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 ")
    assert ("setsockopt", (socket.IPPROTO_TCP, socket.TCP_NODELAY, True)) in server.calls
    writes = [data for name, data in server.calls if name == "sendall"]
    assert len(writes) == 3  # status line, headers and body of each response in a single segment
    assert all(write.endswith(b'{"page": "local"}') for write in writes)


def test_trace_and_connect_are_405_problems_with_allow(server: GatewayServer) -> None:
    for method in ("TRACE", "CONNECT"):
        status, headers, body = exchange(
            server, f"{method} /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        assert status == 405
        assert_problem(headers, body, 405)
        assert "GET" in headers["allow"]
        assert "TRACE" not in headers["allow"]


def test_an_unknown_method_is_a_501_problem(server: GatewayServer) -> None:
    status, headers, body = exchange(server, b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 501
    assert_problem(headers, body, 501)


def test_headers_over_cloudfronts_limit_are_a_431_problem(server: GatewayServer) -> None:
    filler = "a" * 4000
    lines = "".join(f"x-filler-{i}: {filler}\r\n" for i in range(MAX_HEADER_BYTES // 4000 + 1))
    status, headers, body = exchange(
        server, f"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode()
    )
    assert status == 431
    assert str(MAX_HEADER_BYTES) in assert_problem(headers, body, 431)["detail"]


def test_a_header_line_over_http_servers_limit_is_a_431_problem_not_html(server: GatewayServer) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nx-big: " + b"a" * 70000 + b"\r\n\r\n"
    status, headers, body = exchange(server, raw)
    assert status == 431
    assert_problem(headers, body, 431)


def test_a_url_over_cloudfronts_limit_is_a_414_problem(server: GatewayServer) -> None:
    path = "/api/" + "a" * MAX_URL_BYTES
    status, headers, body = exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 414
    assert_problem(headers, body, 414)


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2"])
def test_a_malformed_content_length_is_a_400_problem(server: GatewayServer, length: str) -> None:
    raw = f"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    status, headers, body = exchange(server, raw)
    assert status == 400
    assert_problem(headers, body, 400)
    assert headers["connection"] == "close"


def test_a_malformed_request_line_is_a_400_problem(server: GatewayServer) -> None:
    status, headers, body = exchange(server, b"GET / HTTP/1.1 extra\r\n\r\n")
    assert status == 400
    assert_problem(headers, body, 400)


def test_a_chunked_body_is_a_411_and_an_oversized_one_a_413_and_both_close_the_connection(
    server: GatewayServer,
) -> None:
    chunked = b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    status, headers, body = exchange(server, chunked)
    assert status == 411
    assert_problem(headers, body, 411)
    assert headers["connection"] == "close"  # the unread chunks must not be parsed as the next request
    too_big = f"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    status, headers, body = exchange(server, too_big.encode())
    assert status == 413
    assert_problem(headers, body, 413)
    assert headers["connection"] == "close"
