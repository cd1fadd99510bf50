"""A tiny Lambda runtime: import a handler by its dotted name, invoke it like Lambda does.

Each `LocalFunction` is one warm container: its module is imported once (cold start measured), and
invocations are serialised, because a Lambda container serves one event at a time and the functions
rely on that (one database connection per container). Events and results go through JSON, as they do
in Lambda, so a handler returning something unserialisable fails here as it would in AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.events import ACCOUNT_ID
from local.state import REGION

Handler = Callable[[dict[str, Any], Any], Any]


_thread_state = threading.local()


def ensure_thread_event_loop() -> None:
    """Give the calling thread an event loop of its own (closed by `close_thread_event_loop`)."""
    if getattr(_thread_state, "loop", None) is None:
        _thread_state.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_thread_state.loop)


def close_thread_event_loop() -> None:
    loop = getattr(_thread_state, "loop", None)
    if loop is not None:
        asyncio.set_event_loop(None)
        loop.close()
        _thread_state.loop = None


class HandlerUnavailableError(RuntimeError):
    """The handler's module or attribute cannot be imported (not written yet, or broken)."""


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(remaining * 1000))


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    cold_start_ms: float | None = None
    last_duration_ms: float | None = None
    last_error: str | None = None


class LocalFunction:
    def __init__(
        self,
        name: str,
        handler: str,
        *,
        timeout: float,
        memory: int = 512,
        needs_event_loop: bool = False,
        serialized: bool = True,
    ) -> None:
        self.name = name
        self.handler_path = handler
        self.timeout = timeout
        self.memory = memory
        self.stats = FunctionStats()
        self._handler: Handler | None = None
        # Mangum asks for the current thread's event loop, which only a main thread has by default.
        self.needs_event_loop = needs_event_loop
        # One invocation at a time, like a Lambda container holding one database connection. Lambda@Edge
        # functions hold none and CloudFront runs as many as requests arrive: an edge trigger fetching
        # its runtime config through the gateway must not wait for itself.
        self._lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if serialized else contextlib.nullcontext()
        )

    def load(self) -> Handler:
        if self._handler is None:
            module_name, _, attribute = self.handler_path.rpartition(".")
            started = time.perf_counter()
            try:
                module = importlib.import_module(module_name)
                handler = getattr(module, attribute)
            except (ImportError, AttributeError) as exc:
                raise HandlerUnavailableError(f"{self.handler_path} is not available: {exc}") from exc
            self.stats.cold_start_ms = (time.perf_counter() - started) * 1000
            self._handler = handler
        return self._handler

    @property
    def available(self) -> bool:
        try:
            self.load()
        except HandlerUnavailableError:
            return False
        return True

    def invoke(self, event: dict[str, Any]) -> Any:
        """Invoke with a JSON round trip of event and result; errors propagate as in a sync invoke."""
        if self.needs_event_loop:
            ensure_thread_event_loop()
        with self._lock:
            return self._invoke(event)

    def _invoke(self, event: dict[str, Any]) -> Any:
        handler = self.load()
        context = LambdaContext(self.name, self.memory, self.timeout)
        context.log_group_name = f"/aws/lambda/{self.name}"
        payload = json.loads(json.dumps(event))
        started = time.perf_counter()
        self.stats.invocations += 1
        try:
            result = handler(payload, context)
            return json.loads(json.dumps(result))
        except Exception as exc:
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.stats.last_duration_ms = (time.perf_counter() - started) * 1000
