"""The edge configuration: JSON bundled into the asset at synth → frozen dataclasses, validated once.

Lambda@Edge has no environment variables, so `get_config()` reads `config.json` beside this package the
first time it is needed. Tests and the local stack call `use_config(...)` with a mapping or an
`EdgeConfig` instead (`EDGE_CONFIG_PATH`, when set, names a file to read first: local stack only;
Lambda@Edge never has it). The schema is documented in docs/edge.md; unknown keys are errors so a
typo cannot silently switch a check off.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from saascontracts.b64 import Base64Error, b64url_decode
from saascontracts.identity import SESSION_COOKIE
from saascontracts.keys import JwkError
from saascontracts.records import factory, record, record_fields
from saascontracts.tokens import MAX_LIFETIME_SECONDS, AudienceRule, IssuerConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONFIG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.json")
CONFIG_PATH_ENV = "EDGE_CONFIG_PATH"

DEFAULT_PUBLIC_PATHS = (
    "GET /api/v1/health",
    "GET /api/docs",
    "GET /api/v1/openapi.json",
    "GET /api/v2/openapi.json",
    "GET /.well-known/jwks.json",
    "GET /.well-known/saas-edge-config.json",
    "POST /api/v1/signup",
    "POST /api/v1/sessions",
    "POST /api/v1/sessions/refresh",
    "POST /api/v1/sessions/token",
    "POST /api/v1/sessions/discover",
    "POST /webhooks/stripe",
    # SCIM clients send their own bearer token (not a JWT); the origin checks it (decision 0120).
    "* /scim/v2/*",
)
DEFAULT_SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
METHODS = frozenset({"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The only spelling a public path is recognised in: lower case, no percent-escapes, no empty, `.` or `..`
# segment, no trailing slash. Any other spelling is protected, whatever it would normalise to.
_CANONICAL_PATH = re.compile(r"/|(?:/(?!\.\.?(?:/|$))[a-z0-9._~-]+)+")


class ConfigError(ValueError):
    """The edge configuration is invalid; the message names the offending key."""


def is_canonical_path(uri: str) -> bool:
    """True when `uri` is already in the one form the public list is compared in (see _CANONICAL_PATH).

    The origin percent-decodes the path and routes it case-sensitively; a proxy or framework in between
    may also merge slashes or resolve dot segments. A public spelling therefore has to be one that every
    such normalisation leaves unchanged; everything else needs a credential (deny by default)."""
    return _CANONICAL_PATH.fullmatch(uri) is not None


@record
class PathRule:
    """`METHOD /path` where METHOD may be `*` and a path ending in `/*` matches that prefix."""

    method: str
    path: str

    @property
    def prefix(self) -> str | None:
        return self.path[:-1] if self.path.endswith("/*") else None

    def matches(self, method: str, uri: str) -> bool:
        # HEAD is GET without a body, so a GET rule covers it.
        if self.method not in ("*", method) and not (self.method == "GET" and method == "HEAD"):
            return False
        prefix = self.prefix
        return uri.startswith(prefix) if prefix is not None else uri == self.path


class PathIndex:
    """Path rules indexed for one dict look-up per request (exact paths) plus a short prefix scan."""

    __slots__ = ("exact", "prefixes")

    def __init__(self, rules: tuple[PathRule, ...]) -> None:
        self.exact: dict[str, tuple[PathRule, ...]] = {}
        prefixes = []
        for rule in rules:
            if rule.prefix is None:
                self.exact[rule.path] = (*self.exact.get(rule.path, ()), rule)
            else:
                prefixes.append(rule)
        self.prefixes = tuple(prefixes)

    def matches(self, method: str, uri: str) -> bool:
        exact = self.exact.get(uri)
        if exact is not None and any(rule.matches(method, uri) for rule in exact):
            return True
        return self.matches_prefix(method, uri)

    def matches_prefix(self, method: str, uri: str) -> bool:
        return any(rule.matches(method, uri) for rule in self.prefixes)


@record
class JwksSettings:
    ttl_seconds: float = 600.0
    min_refresh_seconds: float = 30.0
    timeout_seconds: float = 2.0


@record
class CookieSettings:
    session: str = SESSION_COOKIE
    anonymous: str = "aid"
    anonymous_max_age_seconds: int = 365 * 24 * 3600


@record
class Limits:
    max_token_bytes: int = 8 * 1024
    max_cookie_bytes: int = 8 * 1024
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    token_cache_size: int = 2048
    flag_cache_size: int = 4096
    max_flags_header_bytes: int = 4 * 1024


@record
class StickySettings:
    """Sticky bucketing (off by default, as in the SDKs without a sticky-bucket service)."""

    enabled: bool = False
    cookie: str = "gbStickyBuckets"
    max_cookie_bytes: int = 3 * 1024
    max_age_seconds: int = 180 * 24 * 3600


@record
class FlagSettings:
    payload: Mapping[str, Any] = factory(default_factory=dict)
    refresh_url: str | None = None
    refresh_ttl_seconds: float = 60.0
    refresh_timeout_seconds: float = 1.0
    forward: tuple[str, ...] | None = None
    sticky_bucketing: StickySettings = StickySettings()


@record
class EdgeConfig:
    issuers: tuple[IssuerConfig, ...]
    environment: str = "unknown"
    jwks: JwksSettings = JwksSettings()
    public_paths: tuple[PathRule, ...] = ()
    cookies: CookieSettings = CookieSettings()
    limits: Limits = Limits()
    flags: FlagSettings = FlagSettings()
    origins_by_country: Mapping[str, str] = factory(default_factory=dict)
    security_headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Path look-ups run on every request: index them once (the record is frozen, hence object.__setattr__).
        object.__setattr__(self, "_public", PathIndex(self.public_paths))

    def is_public(self, method: str, uri: str) -> bool:
        """Deny by default: only a canonical spelling of a listed path is public."""
        index: PathIndex = self._public  # type: ignore[attr-defined]
        if is_canonical_path(uri):
            return index.matches(method, uri)
        # Below a public prefix, upper case is allowed (SCIM's /Users, RFC 7644 §3.2): folding case cannot
        # move a path out of a lower-case prefix it matches literally; every other rule still holds.
        return index.matches_prefix(method, uri) and is_canonical_path(uri.lower())


class _Section:
    """Typed reads from one JSON object, with the dotted path in every error message."""

    def __init__(self, data: Any, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path or 'config'} must be an object")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{path or 'config'}: unknown key(s) {unknown}")
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"{self._where(key)} must be a non-empty string")
        return value

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(f"{self._where(key)} must be a number within {low}..{high}")
        return float(value)

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{self._where(key)} must be an integer within {low}..{high}")
        return value

    def strings(self, key: str, default: tuple[str, ...] | None = ()) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ConfigError(f"{self._where(key)} must be a list of non-empty strings")
        return tuple(value)

    def section(self, key: str, allowed: frozenset[str]) -> _Section:
        return _Section(self.data.get(key, {}), self._where(key), allowed)


_ISSUER_KEYS = frozenset(
    {
        "issuer",
        "audiences",
        "algorithms",
        "jwks_url",
        "keys",
        "hs256_secret",
        "token_use",
        "client_ids",
        "token_uses",
        "leeway_seconds",
        "max_lifetime_seconds",
    }
)
_RULE_KEYS = frozenset({"audiences", "client_ids"})


def _token_uses(data: Any, path: str) -> tuple[AudienceRule, ...]:
    if data is None:
        return ()
    if not isinstance(data, Mapping) or not data:
        raise ConfigError(f"{path} must map token_use values to {{audiences, client_ids}}")
    rules = []
    for token_use, rule_data in data.items():
        rule = _Section(rule_data, f"{path}.{token_use}", _RULE_KEYS)
        rules.append(
            AudienceRule(
                token_use=token_use,
                audiences=rule.strings("audiences") or (),
                client_ids=rule.strings("client_ids") or (),
            )
        )
    return tuple(rules)


def _issuer(data: Any, path: str) -> IssuerConfig:
    section = _Section(data, path, _ISSUER_KEYS)
    keys = data.get("keys", [])
    if not isinstance(keys, list) or not all(isinstance(jwk, Mapping) for jwk in keys):
        raise ConfigError(f"{path}.keys must be a list of JWK objects")
    secret_text = section.text("hs256_secret")
    try:
        secret = b64url_decode(secret_text) if secret_text is not None else None
        return IssuerConfig(
            issuer=section.text("issuer") or "",
            audiences=section.strings("audiences") or (),
            algorithms=section.strings("algorithms") or ("RS256",),
            jwks_url=section.text("jwks_url"),
            keys=tuple(keys),
            hs256_secret=secret,
            token_use=section.text("token_use"),
            client_ids=section.strings("client_ids") or (),
            token_uses=_token_uses(data.get("token_uses"), f"{path}.token_uses"),
            leeway_seconds=section.integer("leeway_seconds", 30, low=0, high=300),
            max_lifetime_seconds=(
                section.integer("max_lifetime_seconds", 0, low=60, high=MAX_LIFETIME_SECONDS)
                if "max_lifetime_seconds" in data
                else None
            ),
        )
    except (Base64Error, JwkError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _path_rules(values: tuple[str, ...], path: str) -> tuple[PathRule, ...]:
    rules = []
    for value in values:
        method, _, uri = value.partition(" ")
        if method not in METHODS or not uri.startswith("/") or "*" in uri.removesuffix("/*"):
            raise ConfigError(f"{path}: {value!r} is not 'METHOD /path' or 'METHOD /prefix/*'")
        if not is_canonical_path(uri.removesuffix("/*")):
            raise ConfigError(f"{path}: {value!r} is not canonical (lower case, no %, //, . or .. segments)")
        rules.append(PathRule(method, uri))
    return tuple(rules)


def _flags(section: _Section) -> FlagSettings:
    payload = section.data.get("payload", {})
    if not isinstance(payload, Mapping) or not isinstance(payload.get("features", {}), Mapping):
        raise ConfigError("flags.payload must be a GrowthBook payload object with a features object")
    refresh_url = section.text("refresh_url")
    if refresh_url is not None and not refresh_url.startswith(("https://", "http://127.0.0.1")):
        raise ConfigError("flags.refresh_url must be https")
    return FlagSettings(
        payload=payload,
        refresh_url=refresh_url,
        refresh_ttl_seconds=section.number("refresh_ttl_seconds", 60, low=1, high=86400),
        refresh_timeout_seconds=section.number("refresh_timeout_seconds", 1, low=0.05, high=4),
        forward=section.strings("forward", None),
        sticky_bucketing=_sticky(
            section.section("sticky_bucketing", frozenset(record_fields(StickySettings)))
        ),
    )


def _sticky(section: _Section) -> StickySettings:
    enabled = section.data.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError("flags.sticky_bucketing.enabled must be true or false")
    cookie = section.text("cookie", "gbStickyBuckets") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cookie):
        raise ConfigError("flags.sticky_bucketing.cookie must be 1-64 letters, digits, '_' or '-'")
    return StickySettings(
        enabled=enabled,
        cookie=cookie,
        # Browsers keep at most 4096 bytes per cookie (name, value and attributes together).
        max_cookie_bytes=section.integer("max_cookie_bytes", 3 * 1024, low=256, high=3 * 1024),
        max_age_seconds=section.integer("max_age_seconds", 180 * 24 * 3600, low=60, high=400 * 24 * 3600),
    )


_TOP_KEYS = frozenset(
    {
        "environment",
        "issuers",
        "jwks",
        "public_paths",
        "cookies",
        "limits",
        "flags",
        "origins_by_country",
        "security_headers",
    }
)


def load_config(data: Mapping[str, Any]) -> EdgeConfig:
    """Validate a parsed JSON config; ConfigError names the first bad key."""
    top = _Section(data, "", _TOP_KEYS)
    issuers_data = data.get("issuers")
    if not isinstance(issuers_data, list) or not issuers_data:
        raise ConfigError("issuers must be a non-empty list")
    issuers = tuple(_issuer(item, f"issuers[{index}]") for index, item in enumerate(issuers_data))
    if len({issuer.issuer for issuer in issuers}) != len(issuers):
        raise ConfigError("issuers: the same issuer is listed twice")

    jwks = top.section("jwks", frozenset({"ttl_seconds", "min_refresh_seconds", "timeout_seconds"}))
    cookies = top.section("cookies", frozenset({"session", "anonymous", "anonymous_max_age_seconds"}))
    limits = top.section("limits", frozenset(record_fields(Limits)))
    origins = data.get("origins_by_country", {})
    if not isinstance(origins, Mapping) or not all(
        isinstance(code, str) and len(code) == 2 and code.isupper() and isinstance(host, str) and host
        for code, host in origins.items()
    ):
        raise ConfigError("origins_by_country must map two-letter upper-case country codes to host names")
    headers = {**DEFAULT_SECURITY_HEADERS, **data.get("security_headers", {})}
    if not all(
        isinstance(name, str) and (value is None or isinstance(value, str)) for name, value in headers.items()
    ):
        raise ConfigError("security_headers must map header names to strings (or null to drop a default)")

    return EdgeConfig(
        issuers=issuers,
        environment=top.text("environment", "unknown") or "unknown",
        jwks=JwksSettings(
            ttl_seconds=jwks.number("ttl_seconds", 600, low=10, high=86400),
            min_refresh_seconds=jwks.number("min_refresh_seconds", 30, low=1, high=3600),
            timeout_seconds=jwks.number("timeout_seconds", 2, low=0.1, high=4),
        ),
        public_paths=_path_rules(top.strings("public_paths", DEFAULT_PUBLIC_PATHS) or (), "public_paths"),
        cookies=CookieSettings(
            session=cookies.text("session", SESSION_COOKIE) or "",
            anonymous=cookies.text("anonymous", "aid") or "",
            anonymous_max_age_seconds=cookies.integer(
                "anonymous_max_age_seconds", 365 * 24 * 3600, low=60, high=400 * 24 * 3600
            ),
        ),
        limits=Limits(
            max_token_bytes=limits.integer("max_token_bytes", 8 * 1024, low=512, high=16 * 1024),
            max_cookie_bytes=limits.integer("max_cookie_bytes", 8 * 1024, low=512, high=32 * 1024),
            max_header_bytes=limits.integer("max_header_bytes", 16 * 1024, low=1024, high=64 * 1024),
            max_body_bytes=limits.integer("max_body_bytes", 1024 * 1024, low=0, high=1024 * 1024),
            token_cache_size=limits.integer("token_cache_size", 2048, low=0, high=100_000),
            flag_cache_size=limits.integer("flag_cache_size", 4096, low=0, high=100_000),
            max_flags_header_bytes=limits.integer("max_flags_header_bytes", 4 * 1024, low=64, high=8 * 1024),
        ),
        flags=_flags(top.section("flags", frozenset(record_fields(FlagSettings)))),
        origins_by_country=dict(origins),
        security_headers=tuple((name.lower(), value) for name, value in headers.items() if value is not None),
    )


def load_config_file(path: str | os.PathLike[str]) -> EdgeConfig:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read edge config {path}: {exc}") from exc
    return load_config(data)


_current: EdgeConfig | None = None


def use_config(config: EdgeConfig | Mapping[str, Any] | None) -> EdgeConfig | None:
    """Install a config (tests, local stack); None forgets it so the next read loads the file again."""
    global _current  # noqa: PLW0603 - one config per container, swapped only by tests and the local stack
    _current = config if config is None or isinstance(config, EdgeConfig) else load_config(config)
    return _current


def get_config() -> EdgeConfig:
    global _current  # noqa: PLW0603 - loaded lazily once per container
    if _current is None:
        override = os.environ.get(CONFIG_PATH_ENV)
        _current = load_config_file(override or CONFIG_FILE)
    return _current
