"""Public keys from JWKs (RSA for RS256, EC P-256 for ES256), their verification, and a JWKS cache.

RS256 follows RFC 8017 §8.2.2: the signature is exactly k bytes, s < n, m = s^e mod n is encoded back to
k bytes and compared in constant time with the complete EMSA-PKCS1-v1_5 encoding we build ourselves (no
parsing of the decrypted block, so no Bleichenbacher-style leniency). s^e mod n runs in OpenSSL's
libcrypto when the interpreter links it (`saascontracts.libcrypto`), else in Python's `pow`.

ES256 follows RFC 7518 §3.4 with the checks of RFC 8725 §3: the signature is the raw 64-byte R‖S (a DER
signature is refused by its length), 0 < r, s < n, and the key's point is on P-256 (checked when the JWK
is parsed; coordinates must be exactly 32 bytes, RFC 7518 §6.2.1.2).

`JwksCache` fetches an issuer's JWKS on first use or on an unknown `kid` (never more often than
`min_refresh_seconds`), keeps it for `ttl_seconds` and keeps the last good set when a refresh fails.
"""

from __future__ import annotations

import _thread
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

from saascontracts import p256
from saascontracts.b64 import Base64Error, b64url_decode
from saascontracts.fetch import http_get
from saascontracts.libcrypto import rsa_public_op
from saascontracts.records import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MIN_RSA_BITS = 2048
# Bounds the cost of one verification an attacker can make us do with a hostile JWKS.
MAX_RSA_BITS = 8192
MAX_RSA_EXPONENT = 2**32
MAX_JWKS_BYTES = 64 * 1024
MAX_JWKS_KEYS = 32
MAX_KID_CHARS = 256

# DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class JwkError(ValueError):
    """A JWK or JWKS document is not an acceptable signing key (set)."""


_NO_OP: Any = object()


@record
class RsaPublicKey:
    n: int
    e: int
    size_bytes: int
    kid: str | None = None

    algorithm = "RS256"

    def verify_sha256(self, message: bytes, signature: bytes) -> bool:
        """RSASSA-PKCS1-v1_5 with SHA-256: full encoding compared in constant time."""
        k = self.size_bytes
        if len(signature) != k:
            return False
        s = int.from_bytes(signature, "big")
        if s >= self.n:
            return False
        em = self._public_op(signature)
        if em is None:
            em = pow(s, self.e, self.n).to_bytes(k, "big")
        t = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
        return hmac.compare_digest(em, expected)

    def _public_op(self, signature: bytes) -> bytes | None:
        # Built on first use and kept with the key (the record is frozen, hence object.__setattr__).
        op = self.__dict__.get("_op", _NO_OP)
        if op is _NO_OP:
            op = rsa_public_op(self.n, self.e, self.size_bytes)
            object.__setattr__(self, "_op", op)
        result: bytes | None = op(signature) if op is not None else None
        return result


@record
class EcPublicKey:
    """A P-256 public point (validated on the curve) for ES256."""

    x: int
    y: int
    kid: str | None = None

    algorithm = "ES256"

    def __post_init__(self) -> None:
        if not p256.on_curve(self.x, self.y):
            raise JwkError("EC point is not on P-256")

    def verify_sha256(self, message: bytes, signature: bytes) -> bool:
        """ECDSA P-256 with SHA-256 over a raw R‖S signature."""
        table = self.__dict__.get("_table")
        if table is None:
            table = p256.comb_table(self.x, self.y)
            object.__setattr__(self, "_table", table)
        return p256.verify_digest(hashlib.sha256(message).digest(), signature, table)


PublicKey = RsaPublicKey | EcPublicKey


def _b64_member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise JwkError(f"JWK member {name!r} missing")
    try:
        return b64url_decode(value)
    except Base64Error as exc:
        raise JwkError(f"JWK member {name!r} is not base64url") from exc


def _b64_int(jwk: Mapping[str, Any], name: str) -> int:
    return int.from_bytes(_b64_member(jwk, name), "big")


def _signing_kid(jwk: Mapping[str, Any], algorithm: str) -> str | None:
    """The JWK's kid after the checks every verification key passes (use, alg, key_ops, no private part)."""
    if jwk.get("use", "sig") != "sig":
        raise JwkError("JWK is not a signing key")
    if jwk.get("alg", algorithm) != algorithm:
        raise JwkError(f"JWK is not an {algorithm} key")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise JwkError("JWK key_ops does not allow verify")
    if "d" in jwk:
        raise JwkError("JWK holds a private key; only public keys belong here")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_CHARS):
        raise JwkError("JWK kid is not a short string")
    return kid


def parse_ec_jwk(jwk: Mapping[str, Any]) -> EcPublicKey:
    """An ES256 verification key from a public JWK: kty EC, crv P-256, 32-byte coordinates on the curve."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC":
        raise JwkError("JWK is not an EC key")
    if jwk.get("crv") != "P-256":
        raise JwkError("EC JWK is not on curve P-256")
    kid = _signing_kid(jwk, "ES256")
    x = _b64_member(jwk, "x")
    y = _b64_member(jwk, "y")
    if len(x) != p256.COORDINATE_BYTES or len(y) != p256.COORDINATE_BYTES:
        raise JwkError("EC JWK coordinates must be 32 bytes each")
    return EcPublicKey(x=int.from_bytes(x, "big"), y=int.from_bytes(y, "big"), kid=kid)


def parse_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """An RS256 or ES256 verification key from a public JWK; anything else is a JwkError."""
    kty = jwk.get("kty") if isinstance(jwk, Mapping) else None
    if kty == "EC":
        return parse_ec_jwk(jwk)
    if kty == "RSA":
        return parse_rsa_jwk(jwk)
    raise JwkError("JWK is neither an RSA nor an EC key")


def parse_rsa_jwk(jwk: Mapping[str, Any]) -> RsaPublicKey:
    """An RS256 verification key from a public JWK; refuses anything else (kty, use, alg, size)."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA":
        raise JwkError("JWK is not an RSA key")
    kid = _signing_kid(jwk, "RS256")
    n = _b64_int(jwk, "n")
    e = _b64_int(jwk, "e")
    bits = n.bit_length()
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise JwkError(f"RSA modulus of {bits} bits is outside {MIN_RSA_BITS}..{MAX_RSA_BITS}")
    if e < 3 or e % 2 == 0 or e >= MAX_RSA_EXPONENT:
        raise JwkError("RSA exponent is not acceptable")
    return RsaPublicKey(n=n, e=e, size_bytes=(bits + 7) // 8, kid=kid)


def parse_jwks(document: bytes) -> dict[str | None, PublicKey]:
    """Usable RS256 and ES256 keys of a JWKS document by `kid`; other keys are skipped, not errors."""
    if len(document) > MAX_JWKS_BYTES:
        raise JwkError("JWKS document too large")
    try:
        parsed = json.loads(document)
    except ValueError as exc:
        raise JwkError("JWKS is not JSON") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
        raise JwkError("JWKS has no keys array")
    keys: dict[str | None, PublicKey] = {}
    for jwk in parsed["keys"][:MAX_JWKS_KEYS]:
        try:
            key = parse_jwk(jwk)
        except JwkError:
            continue
        keys[key.kid] = key
    return keys


def fetch_url(url: str, timeout: float) -> bytes:
    """GET a JWKS document (https; plain http only to loopback)."""
    return http_get(url, timeout, max_bytes=MAX_JWKS_BYTES)


Fetcher = Callable[[str, float], bytes]


class JwksCache:
    """One issuer's JWKS: lazy fetch, TTL, rate-limited refresh on unknown kid, last good set kept."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Fetcher = fetch_url,
        monotonic: Callable[[], float] = time.monotonic,
        ttl_seconds: float = 600.0,
        min_refresh_seconds: float = 30.0,
        timeout_seconds: float = 2.0,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._monotonic = monotonic
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._timeout = timeout_seconds
        self._keys: dict[str | None, PublicKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = _thread.allocate_lock()
        self.last_error: str | None = None

    def keys(self, *, want_kid: str | None = None) -> dict[str | None, PublicKey]:
        """Current keys, refreshed first when stale, empty, or missing `want_kid` (rate-limited)."""
        now = self._monotonic()
        stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
        missing = want_kid is not None and want_kid not in self._keys
        if (stale or missing) and self._may_attempt(now):
            self._refresh(now)
        return self._keys

    def _may_attempt(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refresh

    def _refresh(self, now: float) -> None:
        with self._lock:
            if not self._may_attempt(now):
                return
            self._attempted_at = now
            try:
                keys = parse_jwks(self._fetch(self.url, self._timeout))
            except (OSError, JwkError, ValueError) as exc:
                # Last good set stays in place; the next attempt waits for the rate limit.
                self.last_error = f"{type(exc).__name__}: {exc}"
                return
            if not keys:
                self.last_error = "JWKS has no usable RS256 or ES256 key"
                return
            self._keys = keys
            self._fetched_at = now
            self.last_error = None
