"""A TCP relay in front of PostgreSQL (or PgBouncer) that counts round trips on the wire.

A round trip is a wait: the client sent a message that asks the server to answer now (Sync, Flush or a
simple Query) and the server's answer came back. Pipelined Parse/Bind/Execute messages that carry no
such request are free, and so are several requests sent before any answer (a Sync followed by a Flush
is one wait). The relay sets the "waiting" mark before it forwards the request, so the server's answer
can never be seen first, whatever the thread timing.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

# Frontend messages after which the server flushes its answer and the client waits for it.
ANSWER_NOW = frozenset(b"SHQ")
# Untyped frontend messages before the startup message: SSLRequest, GSSENCRequest.
NEGOTIATION_CODES = frozenset({80877103, 80877104})


class _Stream:
    """Frames the frontend byte stream into messages: untyped until the startup message, typed after."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False

    def requests(self, data: bytes) -> int:
        """How many answer-now messages ``data`` completes."""
        self.buffer += data
        found = 0
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return found
                length, code = struct.unpack("!II", self.buffer[:8])
                if len(self.buffer) < length:
                    return found
                self.buffer = self.buffer[length:]
                self.started = code not in NEGOTIATION_CODES
                continue
            if len(self.buffer) < 5:
                return found
            kind = self.buffer[0]
            (length,) = struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return found
            self.buffer = self.buffer[1 + length :]
            found += kind in ANSWER_NOW


class WireCounter:
    """Listens on 127.0.0.1; every accepted connection is relayed to ``(host, port)`` and counted."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed = False
        self.round_trips = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the relay's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{self.port}"))

    @contextlib.contextmanager
    def counting(self) -> Iterator[WireCounter]:
        with self._lock:
            self.round_trips = 0
            self._armed = True
        try:
            yield self
        finally:
            with self._lock:
                self._armed = False

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            waiting = [False]  # per connection: a request was forwarded and not yet answered
            threading.Thread(target=self._frontend, args=(client, server, waiting), daemon=True).start()
            threading.Thread(target=self._backend, args=(server, client, waiting), daemon=True).start()

    def _frontend(self, client: socket.socket, server: socket.socket, waiting: list[bool]) -> None:
        stream = _Stream()
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if stream.requests(data):
                    with self._lock:
                        waiting[0] = True
                server.sendall(data)
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_WR)

    def _backend(self, server: socket.socket, client: socket.socket, waiting: list[bool]) -> None:
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                with self._lock:
                    if waiting[0]:
                        waiting[0] = False
                        if self._armed:
                            self.round_trips += 1
                client.sendall(data)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def counted(url: str) -> Iterator[tuple[WireCounter, str]]:
    """A relay in front of ``url``'s server, and ``url`` pointed through it."""
    parts = urlsplit(url)
    counter = WireCounter(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        yield counter, counter.url(url)
    finally:
        counter.close()
