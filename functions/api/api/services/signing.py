"""The session signing key: a KMS asymmetric key in AWS, a local PEM in development and tests.

Both sign RS256 (RSASSA-PKCS1-v1_5 with SHA-256) and expose the public key as a JWK, so the JWKS served
at ``/.well-known/jwks.json`` (read by the edge) always matches the key that signs. The key id is the
RFC 7638 thumbprint of the public key, so rotating the key changes ``kid`` without configuration.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, Protocol

from api.settings import ApiSettings, get_settings
from saascontracts.b64 import b64url_encode
from saascore.exceptions import ConfigurationError
from saascore.secrets import resolve_secret


class Signer(Protocol):
    @property
    def public_jwk(self) -> dict[str, str]: ...

    def sign(self, message: bytes) -> bytes: ...


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def rsa_jwk(n: int, e: int) -> dict[str, str]:
    """Public JWK with an RFC 7638 thumbprint as ``kid``."""
    members = {"e": _int_b64(e), "kty": "RSA", "n": _int_b64(n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = b64url_encode(hashlib.sha256(canonical).digest())
    return {**members, "alg": "RS256", "use": "sig", "kid": kid}


def _der_read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER TLV at ``offset``: (tag, value, offset after it)."""
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    return tag, data[offset : offset + length], offset + length


def rsa_numbers_from_spki(der: bytes) -> tuple[int, int]:
    """(n, e) from an X.509 SubjectPublicKeyInfo, the format KMS GetPublicKey returns (stdlib only)."""
    _, spki, _ = _der_read(der, 0)
    _, _, after_algorithm = _der_read(spki, 0)
    tag, bit_string, _ = _der_read(spki, after_algorithm)
    if tag != 0x03 or not bit_string or bit_string[0] != 0:
        raise ConfigurationError("session key is not an RSA SubjectPublicKeyInfo")
    _, rsa_key, _ = _der_read(bit_string[1:], 0)
    _, n_bytes, after_n = _der_read(rsa_key, 0)
    _, e_bytes, _ = _der_read(rsa_key, after_n)
    return int.from_bytes(n_bytes, "big"), int.from_bytes(e_bytes, "big")


class KmsSigner:
    """Signs with ``kms:Sign`` (the private key never leaves KMS); public key fetched once per container."""

    def __init__(self, key_id: str, *, region: str, endpoint_url: str | None = None) -> None:
        import boto3

        self._key_id = key_id
        self._client = boto3.client("kms", region_name=region, endpoint_url=endpoint_url)
        der = self._client.get_public_key(KeyId=key_id)["PublicKey"]
        self._jwk = rsa_jwk(*rsa_numbers_from_spki(der))

    @property
    def public_jwk(self) -> dict[str, str]:
        return dict(self._jwk)

    def sign(self, message: bytes) -> bytes:
        response = self._client.sign(
            KeyId=self._key_id,
            Message=message,
            MessageType="RAW",
            SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
        )
        signature: bytes = response["Signature"]
        return signature


class PemSigner:
    """Signs with a local RSA private key (``cryptography``, a development dependency)."""

    def __init__(self, pem: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("SESSION_PRIVATE_KEY must be an RSA private key")
        self._key = key
        numbers = key.public_key().public_numbers()
        self._jwk = rsa_jwk(numbers.n, numbers.e)

    @property
    def public_jwk(self) -> dict[str, str]:
        return dict(self._jwk)

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def build_signer(settings: ApiSettings) -> Signer:
    if settings.session_key_source == "kms":
        assert settings.session_kms_key_id is not None  # guaranteed by the settings validator
        return KmsSigner(
            settings.session_kms_key_id, region=settings.region, endpoint_url=settings.aws_endpoint_url
        )
    if not settings.session_private_key:
        raise ConfigurationError("SESSION_PRIVATE_KEY is required when SESSION_KEY_SOURCE=pem")
    return PemSigner(resolve_secret(settings.session_private_key))


@lru_cache(maxsize=1)
def get_signer() -> Signer:
    return build_signer(get_settings())


def sign_jws(signer: Signer, claims: dict[str, Any]) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": signer.public_jwk["kid"]}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"
