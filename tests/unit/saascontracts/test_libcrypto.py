"""OpenSSL's modular exponentiation against Python's `pow`, and RS256 verification with each backend."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from saascontracts import libcrypto
from saascontracts.keys import RsaPublicKey, parse_rsa_jwk
from saascontracts.tokens import IssuerConfig, TokenError, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, FrozenClock, SigningKey, make_key, standard_claims


@pytest.fixture
def pure_python() -> Iterator[None]:
    libcrypto.use_libcrypto(False)
    yield
    libcrypto.use_libcrypto(True)


def test_libcrypto_is_available_here() -> None:
    # CPython's _hashlib links libcrypto on this machine as on the Lambda runtimes; if this fails the
    # benchmark and production would silently run the slower pure-Python path.
    assert libcrypto.library() is not None


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_modexp_equals_pow(bits: int) -> None:
    key = make_key("k", bits=bits).private.public_key().public_numbers()
    size = (key.n.bit_length() + 7) // 8
    op = libcrypto.rsa_public_op(key.n, key.e, size)
    assert op is not None
    rng = random.Random(bits)
    for value in [0, 1, 2, key.n - 1, key.n - 2, *(rng.randrange(key.n) for _ in range(50))]:
        signature = value.to_bytes(size, "big")
        assert op(signature) == pow(value, key.e, key.n).to_bytes(size, "big")


def test_small_and_odd_exponents_equal_pow() -> None:
    key = make_key("k").private.public_key().public_numbers()
    for exponent in (3, 17, 65537, 2**31 - 1):
        op = libcrypto.rsa_public_op(key.n, exponent, 256)
        assert op is not None
        value = random.Random(exponent).randrange(key.n)
        assert op(value.to_bytes(256, "big")) == pow(value, exponent, key.n).to_bytes(256, "big")


def _verdicts(signing_key: SigningKey, clock: FrozenClock) -> list[str]:
    config = IssuerConfig(issuer=ISSUER, audiences=(AUDIENCE,), keys=(signing_key.public_jwk,))
    verifier = TokenVerifier([config], clock=clock, cache_size=0)
    good = signing_key.mint(standard_claims())
    header, payload, signature = good.split(".")
    tokens = [good, f"{header}.{payload}.{signature[:-2]}AA", signing_key.mint(standard_claims(sub="other"))]
    other = make_key(signing_key.kid).mint(standard_claims())
    verdicts = []
    for token in [*tokens, other]:
        try:
            verdicts.append(str(verifier.verify(token)["sub"]))
        except TokenError as exc:
            verdicts.append(exc.reason)
    return verdicts


def test_verifier_gives_the_same_verdicts_with_either_backend(
    signing_key: SigningKey, clock: FrozenClock
) -> None:
    with_openssl = _verdicts(signing_key, clock)
    libcrypto.use_libcrypto(False)
    try:
        pure = _verdicts(signing_key, clock)
    finally:
        libcrypto.use_libcrypto(True)
    assert with_openssl == pure == ["user-1", "invalid signature", "other", "invalid signature"]


@pytest.mark.usefixtures("pure_python")
def test_without_libcrypto_the_key_falls_back_to_pow(signing_key: SigningKey) -> None:
    key = parse_rsa_jwk(signing_key.public_jwk)
    assert libcrypto.rsa_public_op(key.n, key.e, key.size_bytes) is None
    message = b"header.payload"
    signature = signing_key.private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert key.verify_sha256(message, signature)
    assert not key.verify_sha256(message + b"x", signature)


def test_a_failing_openssl_call_falls_back_to_pow(
    signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = signing_key.private.public_key().public_numbers()
    key = RsaPublicKey(n=numbers.n, e=numbers.e, size_bytes=256)
    monkeypatch.setattr(libcrypto.RsaPublicOp, "__call__", lambda self, signature: None)
    signature = signing_key.private.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    assert key.verify_sha256(b"m", signature)
