"""Deploy-time values (issuers, audiences/client ids, JWKS locations) learnt from the origin at run time.

Lambda@Edge has no environment variables, and the Cognito pool, its client id and the distribution's
domain exist only once a deploy has run, so the bundled `config.json` cannot name them. When it has a
`remote` section, the first viewer request of a container fetches `remote.path` from its own distribution
(CloudFront puts the domain in every event as `config.distributionDomainName`; plain http only to a
loopback host: the local stack) and again every `ttl_seconds`. The document is `{"issuers": [...]}`: its
issuers replace bundled ones with the same `issuer` and join the others, and the result goes through
`edge.config.load_config`, the parser of the bundled file. A `jwks_url` that starts with `/` names a path
on the distribution. A failed or invalid fetch keeps the config in force (stale-if-error; at cold start
the bundled one) and is not retried for `retry_seconds`, so an unreachable origin costs one bounded wait
per container and interval, never one per request. The document itself is fetched without a refresh (a
request for it never triggers another fetch), and must not sit on a protected path.
"""

from __future__ import annotations

import _thread
import json
import os
import re
import time
from collections.abc import Callable, Mapping

from edge.config import CONFIG_FILE, CONFIG_PATH_ENV, ConfigError, EdgeConfig, get_config, load_config
from edge.log import log
from saascontracts.fetch import LOOPBACK_HOSTS, http_get
from saascontracts.records import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REMOTE_KEY = "remote"
DOCUMENT_KEYS = frozenset({"issuers"})
MAX_DOCUMENT_BYTES = 64 * 1024
_DOMAIN = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
_REMOTE_KEYS = frozenset({"path", "ttl_seconds", "timeout_seconds", "retry_seconds"})
DocumentFetcher = Callable[..., bytes]


@record
class RemoteSettings:
    path: str = "/.well-known/saas-edge-config.json"
    ttl_seconds: float = 300.0
    timeout_seconds: float = 2.0
    retry_seconds: float = 10.0


def _number(section: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"remote.{key} must be a number within {low}..{high}")
    return float(value)


def parse_remote_settings(section: Any) -> RemoteSettings:
    if not isinstance(section, Mapping):
        raise ConfigError("remote must be an object")
    unknown = sorted(set(section) - _REMOTE_KEYS)
    if unknown:
        raise ConfigError(f"remote: unknown key(s) {unknown}")
    path = section.get("path", RemoteSettings.path)
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "*" in path:
        raise ConfigError("remote.path must be an absolute path without query or wildcard")
    return RemoteSettings(
        path=path,
        ttl_seconds=_number(section, "ttl_seconds", 300, 10, 86400),
        # Viewer triggers have 5 s in all; the fetch must leave time for the request itself.
        timeout_seconds=_number(section, "timeout_seconds", 2, 0.1, 3),
        retry_seconds=_number(section, "retry_seconds", 10, 1, 3600),
    )


def distribution_origin(domain: str | None) -> str | None:
    """`https://<domain>` (plain http for a loopback host); None when the domain is missing or odd."""
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        return None
    host = domain.rpartition(":")[0] if ":" in domain else domain
    return f"{'http' if host in LOOPBACK_HOSTS else 'https'}://{domain}"


def _resolved(issuers: list[Any], origin: str | None) -> list[Any]:
    """Issuer entries with a relative `jwks_url` pointed at the distribution."""
    resolved = []
    for entry in issuers:
        url = entry.get("jwks_url") if isinstance(entry, Mapping) else None
        relative = isinstance(url, str) and url.startswith("/") and origin is not None
        resolved.append({**entry, "jwks_url": f"{origin}{url}"} if relative else entry)
    return resolved


def merge_document(bundled: Mapping[str, Any], document: Any, origin: str | None) -> EdgeConfig:
    """The bundled document (without `remote`) with the remote issuers merged in, through `load_config`."""
    if not isinstance(document, Mapping):
        raise ConfigError("remote config document must be an object")
    unknown = sorted(set(document) - DOCUMENT_KEYS)
    if unknown:
        raise ConfigError(f"remote config document: unknown key(s) {unknown}")
    remote = document.get("issuers", [])
    if not isinstance(remote, list) or not all(
        isinstance(entry, Mapping) and isinstance(entry.get("issuer"), str) for entry in remote
    ):
        raise ConfigError("remote config document: issuers must be a list of objects with an issuer")
    by_issuer = {entry["issuer"]: entry for entry in remote}
    base = bundled.get("issuers", [])
    issuers = [
        by_issuer.pop(entry.get("issuer"), entry) if isinstance(entry, Mapping) else entry for entry in base
    ]
    issuers.extend(by_issuer.values())
    static = {key: value for key, value in bundled.items() if key != REMOTE_KEY}
    return load_config({**static, "issuers": _resolved(issuers, origin)})


class StaticConfig:
    """No `remote` section: the config `edge.config.get_config` gives (bundled file or `use_config`)."""

    settings: RemoteSettings | None = None

    def config_for(self, cf: Mapping[str, Any] | None) -> EdgeConfig:
        return get_config()


class RemoteConfig:
    """The bundled document overlaid with the origin's, refreshed with a TTL, stale-if-error."""

    def __init__(
        self,
        bundled: Mapping[str, Any],
        *,
        fetch: DocumentFetcher = http_get,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bundled = {key: value for key, value in bundled.items() if key != REMOTE_KEY}
        self.settings = parse_remote_settings(bundled.get(REMOTE_KEY, {}))
        self._fetch = fetch
        self._monotonic = monotonic
        # The bundled config resolved for the last domain seen (one per distribution, so one entry).
        self._fallback: tuple[Any, EdgeConfig] | None = None
        self._current: EdgeConfig | None = None
        self._body: bytes | None = None
        # Monotonic time from which a fetch is due: now + ttl after a success, now + retry after a failure.
        self._next_fetch = float("-inf")
        self._lock = _thread.allocate_lock()
        self.last_error: str | None = None

    def bundled_config(self, domain: Any) -> EdgeConfig:
        """The bundled document alone (cold start before the first fetch, or the origin unreachable)."""
        if self._fallback is None or self._fallback[0] != domain:
            self._fallback = (domain, merge_document(self._bundled, {}, distribution_origin(domain)))
        return self._fallback[1]

    def config_for(self, cf: Mapping[str, Any] | None) -> EdgeConfig:
        current = self._current
        if current is not None and self._monotonic() < self._next_fetch:
            return current  # the warm path: one clock read
        event = cf.get("config") if isinstance(cf, Mapping) else None
        event = event if isinstance(event, Mapping) else {}
        domain = event.get("distributionDomainName")
        request = cf.get("request") if isinstance(cf, Mapping) else None
        uri = request.get("uri") if isinstance(request, Mapping) else None
        # Only viewer-request verifies tokens; the other triggers use whatever this container holds.
        if event.get("eventType") == "viewer-request" and uri != self.settings.path and self._due():
            self._refresh(domain)
        return self._current or self.bundled_config(domain)

    def _due(self) -> bool:
        return self._monotonic() >= self._next_fetch

    def _refresh(self, domain: Any) -> None:
        # Another thread (the threaded local gateway) may be fetching: wait for it rather than fetch twice.
        if not self._lock.acquire(True, self.settings.timeout_seconds + 1):
            return
        try:
            if self._due():
                self._fetch_document(distribution_origin(domain))
        finally:
            self._lock.release()

    def _fetch_document(self, origin: str | None) -> None:
        started = self._monotonic()
        try:
            if origin is None:
                raise ConfigError("the event names no usable distributionDomainName")
            body = self._fetch(
                origin + self.settings.path, self.settings.timeout_seconds, max_bytes=MAX_DOCUMENT_BYTES
            )
            if body != self._body or self._current is None:
                self._current = merge_document(self._bundled, json.loads(body), origin)
                self._body = body
        except (OSError, ValueError) as exc:
            self._next_fetch = self._monotonic() + self.settings.retry_seconds
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log(
                "WARNING",
                "remote edge config unavailable; keeping the config in force",
                error=self.last_error,
                stale=self._current is not None,
            )
            return
        finished = self._monotonic()
        self._next_fetch = finished + self.settings.ttl_seconds
        self.last_error = None
        log("INFO", "remote edge config loaded", milliseconds=round((finished - started) * 1000, 1))


ConfigSource = StaticConfig | RemoteConfig


def read_bundled_document() -> Any:
    """The raw bundled document, or None when it cannot be read (get_config then reports why)."""
    try:
        with open(os.environ.get(CONFIG_PATH_ENV) or CONFIG_FILE, "rb") as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return None


def source_for(
    config: EdgeConfig | Mapping[str, Any] | None,
    *,
    fetch: DocumentFetcher = http_get,
    monotonic: Callable[[], float] = time.monotonic,
) -> ConfigSource:
    """A remote source when the document (given, or bundled when None) has a `remote` section."""
    document = read_bundled_document() if config is None else config
    if isinstance(document, Mapping) and REMOTE_KEY in document:
        return RemoteConfig(document, fetch=fetch, monotonic=monotonic)
    return StaticConfig()


def load_bundled(document: Mapping[str, Any], *, domain: str | None = None) -> EdgeConfig:
    """Validate a bundled document as the edge would read it (synth): `remote` section, path, issuers."""
    if REMOTE_KEY not in document:
        return load_config(document)
    source = RemoteConfig(document)
    config = source.bundled_config(domain)
    path = source.settings.path
    if not config.is_public("GET", path):
        raise ConfigError(f"remote.path {path} is a protected path: the edge could not fetch it")
    return config
