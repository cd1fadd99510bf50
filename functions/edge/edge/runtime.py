"""Per-container state built once from the config: the token verifier and the flag store.

`configure(...)` (tests, local stack) installs a config and optional clocks/fetchers and rebuilds the
state; in Lambda the first request builds it from the bundled config.json, overlaid with the origin's
document when the bundled one has a `remote` section (`edge.remote_config`); a changed config rebuilds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from edge.config import EdgeConfig, use_config
from edge.flagstore import FlagStore, PayloadFetcher
from edge.remote_config import ConfigSource, DocumentFetcher, source_for
from saascontracts.fetch import http_get
from saascontracts.keys import Fetcher, fetch_url
from saascontracts.records import record
from saascontracts.tokens import TokenVerifier

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class Runtime:
    config: EdgeConfig
    verifier: TokenVerifier
    flags: FlagStore


@record
class _Hooks:
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    jwks_fetch: Fetcher = fetch_url
    flags_fetch: PayloadFetcher = http_get
    config_fetch: DocumentFetcher = http_get


_hooks = _Hooks()
_runtime: Runtime | None = None
_source: ConfigSource | None = None


def build_runtime(config: EdgeConfig, hooks: _Hooks) -> Runtime:
    verifier = TokenVerifier(
        config.issuers,
        clock=hooks.clock,
        fetch=hooks.jwks_fetch,
        monotonic=hooks.monotonic,
        jwks_ttl_seconds=config.jwks.ttl_seconds,
        jwks_min_refresh_seconds=config.jwks.min_refresh_seconds,
        jwks_timeout_seconds=config.jwks.timeout_seconds,
        max_token_bytes=config.limits.max_token_bytes,
        cache_size=config.limits.token_cache_size,
    )
    flags = FlagStore(
        config.flags,
        fetch=hooks.flags_fetch,
        monotonic=hooks.monotonic,
        cache_size=config.limits.flag_cache_size,
        max_header_bytes=config.limits.max_flags_header_bytes,
    )
    return Runtime(config, verifier, flags)


def get_runtime(cf: Mapping[str, Any] | None = None) -> Runtime:
    """The runtime for this event (`Records[0].cf`: the remote source reads its domain and trigger)."""
    global _runtime, _source  # noqa: PLW0603 - one runtime per container, built on first use
    if _source is None:
        _source = source_for(None, fetch=_hooks.config_fetch, monotonic=_hooks.monotonic)
    config = _source.config_for(cf)
    if _runtime is None or _runtime.config is not config:
        _runtime = build_runtime(config, _hooks)
    return _runtime


def configure(
    config: EdgeConfig | Mapping[str, Any] | None,
    *,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    jwks_fetch: Fetcher = fetch_url,
    flags_fetch: PayloadFetcher = http_get,
    config_fetch: DocumentFetcher = http_get,
) -> None:
    """Install a config (None: back to the bundled file) and rebuild the runtime on next use."""
    global _runtime, _hooks, _source  # noqa: PLW0603 - swapped only by tests and the local stack
    _hooks = _Hooks(clock, monotonic, jwks_fetch, flags_fetch, config_fetch)
    _source = None if config is None else source_for(config, fetch=config_fetch, monotonic=monotonic)
    use_config(None if _source is not None and _source.settings is not None else config)
    _runtime = None
