"""The flags payload in force (bundled, optionally refreshed from a URL) and its per-visitor headers.

With `flags.refresh_url` set, the payload is re-fetched at most every `refresh_ttl_seconds`; a failed
or invalid refresh keeps the payload already in force (stale-if-error), so flags never stop working.
Header values are cached per distinct attribute set and sticky-bucket documents (bounded) because
evaluation is deterministic. With `flags.sticky_bucketing.enabled`, experiments see the visitor's
validated sticky-bucket cookie (`edge.sticky`), and `sticky_set_cookie` gives the updated cookie.
"""

from __future__ import annotations

import _thread
import json
import time
from collections.abc import Callable, Mapping

from edge.config import FlagSettings
from edge.flags import FlagEngine
from edge.log import log
from edge.sticky import StickyBuckets
from saascontracts.fetch import http_get

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_PAYLOAD_BYTES = 512 * 1024
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
PayloadFetcher = Callable[..., bytes]


def percent_encode(text: str) -> str:
    """RFC 3986 percent-encoding of everything but unreserved characters (urllib.parse.quote, without its import)."""
    return "".join(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8"))


def encode_flags(flags: Mapping[str, Any], *, max_bytes: int) -> str:
    """Compact JSON object `{"feature": value, ...}`; features that would overflow the limit are left out."""
    parts: list[str] = []
    size = 2
    for key, value in flags.items():
        part = json.dumps(key) + ":" + json.dumps(value, separators=(",", ":"))
        if size + len(part) + (1 if parts else 0) > max_bytes:
            continue
        size += len(part) + (1 if parts else 0)
        parts.append(part)
    return "{" + ",".join(parts) + "}"


def encode_experiments(experiments: tuple[tuple[str, str], ...]) -> str:
    """`experiment-key:variation-key` pairs joined by commas, each part percent-encoded."""
    return ",".join(f"{percent_encode(key)}:{percent_encode(variation)}" for key, variation in experiments)


class FlagStore:
    def __init__(
        self,
        settings: FlagSettings,
        *,
        fetch: PayloadFetcher = http_get,
        monotonic: Callable[[], float] = time.monotonic,
        cache_size: int = 4096,
        max_header_bytes: int = 4096,
    ) -> None:
        self._settings = settings
        self._fetch = fetch
        self._monotonic = monotonic
        self._cache_size = cache_size
        self._max_header_bytes = max_header_bytes
        self._engine = FlagEngine(settings.payload)
        self._sticky = self._sticky_for(self._engine)
        self._checked_at: float | None = None
        self._cache: dict[tuple[Any, ...], tuple[str, str]] = {}
        self._lock = _thread.allocate_lock()
        self.last_error: str | None = None

    def _sticky_for(self, engine: FlagEngine) -> StickyBuckets | None:
        sticky = self._settings.sticky_bucketing
        if not sticky.enabled or not engine.sticky:
            return None
        return StickyBuckets(engine, max_cookie_bytes=sticky.max_cookie_bytes)

    @property
    def engine(self) -> FlagEngine:
        self._refresh_if_due()
        return self._engine

    def _refresh_if_due(self) -> None:
        url = self._settings.refresh_url
        if url is not None:
            now = self._monotonic()
            if self._checked_at is None or now - self._checked_at >= self._settings.refresh_ttl_seconds:
                self._checked_at = now
                self._refresh(url)

    def _refresh(self, url: str) -> None:
        try:
            body = self._fetch(url, self._settings.refresh_timeout_seconds, max_bytes=MAX_PAYLOAD_BYTES)
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("flags payload is not an object")
            engine = FlagEngine(payload)
        except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log("WARNING", "flags refresh failed; keeping the payload in force", error=self.last_error)
            return
        self._engine = engine
        self._sticky = self._sticky_for(engine)
        self._cache.clear()
        self.last_error = None

    def headers_for(self, attributes: Mapping[str, Any], sticky_cookie: str | None = None) -> tuple[str, str]:
        """(`x-flags`, `x-experiments`) values for these attributes (and sticky-bucket cookie value)."""
        engine = self.engine
        sticky = self._sticky
        docs = None if sticky is None else sticky.load(sticky_cookie, attributes)
        key: tuple[Any, ...] = tuple(sorted(attributes.items()))
        if docs:
            key = (*key, json.dumps(docs, sort_keys=True))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        evaluation = engine.evaluate(attributes, self._settings.forward, sticky_docs=docs)
        values = (
            encode_flags(evaluation.flags, max_bytes=self._max_header_bytes),
            encode_experiments(evaluation.experiments),
        )
        if self._cache_size > 0:
            # Locked: the local gateway may call the handlers from several threads.
            with self._lock:
                while len(self._cache) >= self._cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = values
        return values

    def sticky_set_cookie(
        self, attributes: Mapping[str, Any], sticky_cookie: str | None, absent: frozenset[str] = frozenset()
    ) -> str | None:
        """The `Set-Cookie` value that stores this visitor's updated sticky buckets, or None (sticky
        bucketing off, or nothing to change). Features whose targeting reads an attribute in `absent`
        (one the calling trigger cannot see) are not persisted from this call."""
        self._refresh_if_due()
        sticky = self._sticky
        if sticky is None:
            return None
        keys = self._settings.forward
        if absent:
            allowed = sticky.features_without(absent)
            keys = tuple(key for key in (keys or allowed) if key in allowed)
        value = sticky.updated_cookie(sticky_cookie, attributes, keys)
        if value is None:
            return None
        settings = self._settings.sticky_bucketing
        return f"{settings.cookie}={value}; Path=/; Max-Age={settings.max_age_seconds}; Secure; HttpOnly; SameSite=Lax"

    @property
    def sticky_cookie_name(self) -> str:
        return self._settings.sticky_bucketing.cookie
