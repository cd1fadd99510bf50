"""JWT (JWS compact) verification in pure standard library: the one implementation edge and origin share.

- ``TokenError(Exception)``: any refusal; ``.reason`` is short and safe to show a client.
- ``AudienceRule``: what binds one kind of token to us: its ``token_use`` (None: the claim is not looked
  at), ``audiences`` (checked against ``aud``) and/or ``client_ids`` (checked against ``client_id``).
- ``IssuerConfig``: frozen; one trusted issuer: ``issuer``, ``algorithms`` (default ``("RS256",)``; of
  ``RS256``, ``ES256``, ``HS256``), ``jwks_url``, ``keys`` (pinned public JWKs), ``hs256_secret`` (HS256
  only when also listed in ``algorithms``), its audience rules (``token_uses``, or the one-rule shorthand
  ``audiences``/``client_ids``/``token_use``), ``leeway_seconds``, ``max_lifetime_seconds``,
  ``require_exp``, ``require_audience``.
- ``TokenVerifier(issuers, *, clock=time.time, fetch=..., ...)``; ``.verify(token) -> dict`` of claims.

Rules: compact serialization only (≤ ``max_token_bytes``, exactly three segments, strict unpadded
base64url, header and payload JSON objects without duplicate names); ``alg`` must be in the issuer's
allow-list and the key must be of that algorithm's type (the token never chooses the key type: HS256
uses only the configured secret, RS256 only RSA JWKs, ES256 only P-256 JWKs; a ``kid`` naming a key of
another type is refused) and ``none`` is always refused; any ``crit`` is refused (no extensions are
understood); ``jku``, ``x5u``, ``x5c`` and an embedded ``jwk`` are ignored; the issuer is picked by the
exact ``iss`` claim and only its keys are tried; ``exp`` (required by default), ``nbf`` and ``iat`` must
be finite numbers within 0..``MAX_NUMERIC_DATE`` and are checked with the issuer's leeway; with
``max_lifetime_seconds`` a token may not outlive that many seconds from ``iat`` (nor from now); the
audience rule is chosen by the ``token_use`` claim when the issuer names token uses. Verified tokens are
cached in memory (keyed by SHA-256 of the token, bounded, never served at or after ``exp``).
"""

from __future__ import annotations

import _thread
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping

from saascontracts.b64 import Base64Error, b64url_decode
from saascontracts.keys import MAX_KID_CHARS, Fetcher, JwkError, JwksCache, PublicKey, fetch_url, parse_jwk
from saascontracts.records import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUPPORTED_ALGORITHMS = frozenset({"RS256", "ES256", "HS256"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
# 9999-12-31T23:59:59Z: any NumericDate beyond it is an error, not a token that never expires.
MAX_NUMERIC_DATE = 253_402_300_799
MAX_LIFETIME_SECONDS = 366 * 24 * 3600
MIN_HS256_SECRET_BYTES = 32
DEFAULT_MAX_TOKEN_BYTES = 8 * 1024
DEFAULT_CACHE_SIZE = 2048


class TokenError(Exception):
    """A token was refused; ``reason`` names the rule broken without echoing token content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@record
class AudienceRule:
    """One kind of token an issuer mints and the claims that bind it to us (all that are set must hold)."""

    token_use: str | None = None
    audiences: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()

    def binds(self) -> bool:
        return bool(self.audiences or self.client_ids)


@record
class IssuerConfig:
    issuer: str
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("RS256",)
    jwks_url: str | None = None
    keys: tuple[Mapping[str, Any], ...] = ()
    hs256_secret: bytes | None = None
    token_use: str | None = None
    client_ids: tuple[str, ...] = ()
    leeway_seconds: int = 30
    require_exp: bool = True
    # Only for vectors with no audience (RFC 7515 Appendix A); the edge config loader never sets it.
    require_audience: bool = True
    # Several token kinds from one issuer (Cognito access + ID tokens); excludes the one-rule shorthand.
    token_uses: tuple[AudienceRule, ...] = ()
    max_lifetime_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ValueError("issuer must be set")
        unknown = set(self.algorithms) - SUPPORTED_ALGORITHMS
        if unknown or not self.algorithms:
            raise ValueError(f"algorithms must be a non-empty subset of {sorted(SUPPORTED_ALGORITHMS)}")
        if "HS256" in self.algorithms and (
            self.hs256_secret is None or len(self.hs256_secret) < MIN_HS256_SECRET_BYTES
        ):
            raise ValueError(f"HS256 needs hs256_secret of at least {MIN_HS256_SECRET_BYTES} bytes")
        if ASYMMETRIC_ALGORITHMS & set(self.algorithms) and not (self.keys or self.jwks_url):
            raise ValueError("RS256 and ES256 need pinned keys or a jwks_url")
        if self.token_uses and (self.audiences or self.client_ids or self.token_use is not None):
            raise ValueError("give token_uses or audiences/client_ids/token_use, not both")
        rules = self.rules
        uses = [rule.token_use for rule in rules]
        if len(rules) > 1 and (None in uses or len(set(uses)) != len(uses)):
            raise ValueError("each of several token_uses needs its own distinct token_use name")
        if self.require_audience and not all(rule.binds() for rule in rules):
            raise ValueError("an issuer needs audiences or client_ids: a token must be bound to us")
        if not 0 <= self.leeway_seconds <= 300:
            raise ValueError("leeway_seconds must be within 0..300")
        if (
            self.max_lifetime_seconds is not None
            and not 60 <= self.max_lifetime_seconds <= MAX_LIFETIME_SECONDS
        ):
            raise ValueError(f"max_lifetime_seconds must be within 60..{MAX_LIFETIME_SECONDS}")
        for jwk in self.keys:
            key = parse_jwk(jwk)
            if key.algorithm not in self.algorithms:
                raise ValueError(f"a pinned {key.algorithm} key needs {key.algorithm} in algorithms")

    @property
    def rules(self) -> tuple[AudienceRule, ...]:
        if self.token_uses:
            return self.token_uses
        return (AudienceRule(self.token_use, self.audiences, self.client_ids),)


class _Issuer:
    """Runtime state for one IssuerConfig: its pinned keys and JWKS cache."""

    __slots__ = ("config", "jwks", "pinned", "rules_by_use")

    def __init__(self, config: IssuerConfig, jwks: JwksCache | None) -> None:
        self.config = config
        self.pinned: dict[str | None, PublicKey] = {}
        for jwk in config.keys:
            key = parse_jwk(jwk)
            self.pinned[key.kid] = key
        self.jwks = jwks
        self.rules_by_use = {rule.token_use: rule for rule in config.rules}

    def key(self, kid: str | None, algorithm: str) -> PublicKey:
        if kid is not None:
            key = self.pinned.get(kid)
            if key is None and self.jwks is not None:
                key = self.jwks.keys(want_kid=kid).get(kid)
            if key is None:
                raise TokenError("unknown signing key")
            if key.algorithm != algorithm:
                raise TokenError("key does not match the algorithm")
            return key
        # No kid: acceptable only when exactly one key of the algorithm could have signed (RFC 7515 vectors).
        candidates = [key for key in self.pinned.values() if key.algorithm == algorithm]
        if self.jwks is not None:
            candidates.extend(key for key in self.jwks.keys().values() if key.algorithm == algorithm)
        if len(candidates) != 1:
            raise TokenError("token has no key id")
        return candidates[0]

    def rule_for(self, claims: Mapping[str, Any]) -> AudienceRule:
        if None in self.rules_by_use:
            return self.rules_by_use[None]
        token_use = claims.get("token_use")
        rule = self.rules_by_use.get(token_use) if isinstance(token_use, str) else None
        if rule is None:
            raise TokenError("token_use not accepted")
        return rule


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def _json_object(segment: str) -> dict[str, Any]:
    try:
        parsed = _DECODER.decode(b64url_decode(segment).decode("utf-8"))
    except (Base64Error, ValueError, RecursionError) as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(parsed, dict):
        raise TokenError("malformed token")
    return parsed


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"claim {name} is not a number")
    # Compared before float(): 10**400 would overflow; NaN and ±inf fail the comparison.
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenError(f"claim {name} is out of range")
    return float(value)


class TokenVerifier:
    """Verifies tokens from a fixed set of issuers; keep one per process (it caches keys and tokens)."""

    def __init__(
        self,
        issuers: Iterable[IssuerConfig],
        *,
        clock: Callable[[], float] = time.time,
        fetch: Fetcher = fetch_url,
        monotonic: Callable[[], float] = time.monotonic,
        jwks_ttl_seconds: float = 600.0,
        jwks_min_refresh_seconds: float = 30.0,
        jwks_timeout_seconds: float = 2.0,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._clock = clock
        self._max_token_bytes = max_token_bytes
        self._cache_size = cache_size
        self._cache: dict[bytes, tuple[float, dict[str, Any]]] = {}
        self._cache_lock = _thread.allocate_lock()
        self._issuers: dict[str, _Issuer] = {}
        jwks_by_url: dict[str, JwksCache] = {}
        for config in issuers:
            if config.issuer in self._issuers:
                raise ValueError(f"issuer {config.issuer!r} configured twice")
            jwks = None
            if config.jwks_url and ASYMMETRIC_ALGORITHMS & set(config.algorithms):
                jwks = jwks_by_url.get(config.jwks_url)
                if jwks is None:
                    jwks = JwksCache(
                        config.jwks_url,
                        fetch=fetch,
                        monotonic=monotonic,
                        ttl_seconds=jwks_ttl_seconds,
                        min_refresh_seconds=jwks_min_refresh_seconds,
                        timeout_seconds=jwks_timeout_seconds,
                    )
                    jwks_by_url[config.jwks_url] = jwks
            self._issuers[config.issuer] = _Issuer(config, jwks)
        if not self._issuers:
            raise ValueError("at least one issuer is required")

    @property
    def jwks_caches(self) -> list[JwksCache]:
        return [issuer.jwks for issuer in self._issuers.values() if issuer.jwks is not None]

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a valid token (a fresh dict each call), else TokenError."""
        if not isinstance(token, str) or not token:
            raise TokenError("missing token")
        if len(token) > self._max_token_bytes:
            raise TokenError("token too large")
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        cached = self._cache.get(key)
        now = self._clock()
        if cached is not None:
            if now < cached[0]:
                return dict(cached[1])
            with self._cache_lock:
                self._cache.pop(key, None)
        claims, expires_at = self._verify_uncached(token, now)
        self._remember(key, expires_at, claims)
        return dict(claims)

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def _remember(self, key: bytes, expires_at: float | None, claims: dict[str, Any]) -> None:
        # Only tokens with an exp are cached, and only until exp itself (leeway is not extended to hits).
        if expires_at is None or self._cache_size <= 0:
            return
        with self._cache_lock:
            while len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (expires_at, claims)

    def _verify_uncached(self, token: str, now: float) -> tuple[dict[str, Any], float | None]:
        if not token.isascii() or token.count(".") != 2:
            raise TokenError("malformed token")
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = _json_object(header_b64)
        claims = _json_object(payload_b64)
        try:
            signature = b64url_decode(signature_b64)
        except Base64Error as exc:
            raise TokenError("malformed token") from exc

        iss = claims.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise TokenError("issuer not accepted")
        config = issuer.config
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in config.algorithms:
            raise TokenError("algorithm not accepted")
        if "crit" in header:
            raise TokenError("critical header not understood")
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_CHARS):
            raise TokenError("malformed token")

        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        if alg == "HS256":
            secret = config.hs256_secret or b""
            digest = hmac.new(secret, signing_input, hashlib.sha256).digest()
            valid = hmac.compare_digest(digest, signature)
        else:
            valid = issuer.key(kid, alg).verify_sha256(signing_input, signature)
        if not valid:
            raise TokenError("invalid signature")

        expires_at = self._check_times(claims, config, now)
        self._check_audience(claims, issuer.rule_for(claims))
        return claims, expires_at

    @staticmethod
    def _check_times(claims: Mapping[str, Any], config: IssuerConfig, now: float) -> float | None:
        leeway = config.leeway_seconds
        exp = _numeric_date(claims, "exp")
        nbf = _numeric_date(claims, "nbf")
        iat = _numeric_date(claims, "iat")
        if exp is None and config.require_exp:
            raise TokenError("token has no expiry")
        if exp is not None and now >= exp + leeway:
            raise TokenError("token expired")
        if nbf is not None and now < nbf - leeway:
            raise TokenError("token not yet valid")
        if iat is not None and now < iat - leeway:
            raise TokenError("token issued in the future")
        lifetime = config.max_lifetime_seconds
        # From iat when present; never beyond now + lifetime, so omitting iat does not lift the bound.
        if (
            lifetime is not None
            and exp is not None
            and ((iat is not None and exp - iat > lifetime) or exp > now + lifetime + leeway)
        ):
            raise TokenError("token lifetime too long")
        return exp

    @staticmethod
    def _check_audience(claims: Mapping[str, Any], rule: AudienceRule) -> None:
        if rule.token_use is not None and claims.get("token_use") != rule.token_use:
            raise TokenError("token_use not accepted")
        if rule.audiences:
            aud = claims.get("aud")
            values = [aud] if isinstance(aud, str) else aud
            if not isinstance(values, list) or not any(
                isinstance(value, str) and value in rule.audiences for value in values
            ):
                raise TokenError("audience not accepted")
        if rule.client_ids and claims.get("client_id") not in rule.client_ids:
            raise TokenError("client not accepted")


__all__ = ["AudienceRule", "IssuerConfig", "JwkError", "TokenError", "TokenVerifier"]
