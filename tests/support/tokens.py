"""Keys and token minting for tests of the token verifier and the edge: PyJWT + cryptography are the
independent implementation (test-only oracles; the code under test uses neither)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWT_VECTORS = Path(__file__).resolve().parents[1] / "unit" / "saascontracts" / "conformance" / "jwt-rfc7515"
NOW = 1_800_000_000
ISSUER = "https://issuer.test"
AUDIENCE = "saas-api"


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def mint(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **headers})


@dataclass(frozen=True)
class EcSigningKey:
    private: ec.EllipticCurvePrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def mint(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": self.kid, **headers})


def make_key(kid: str, bits: int = 2048) -> SigningKey:
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=bits), kid)


def make_ec_key(kid: str) -> EcSigningKey:
    return EcSigningKey(ec.generate_private_key(ec.SECP256R1()), kid)


def standard_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "tid": "tenant-1",
        "role": "owner",
        "plan": "pro",
        "sid": "session-1",
        "iat": NOW - 10,
        "exp": NOW + 300,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def load_vector(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((JWT_VECTORS / name).read_text())
    return result


class FrozenClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return make_key("key-1")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return make_key("key-2")


@pytest.fixture(scope="session")
def ec_key() -> EcSigningKey:
    return make_ec_key("ec-1")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
