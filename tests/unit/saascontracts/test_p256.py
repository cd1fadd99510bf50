"""P-256 ECDSA against python-cryptography (a test-only oracle): generated keys, messages and signatures."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from saascontracts import p256


def _key() -> tuple[ec.EllipticCurvePrivateKey, tuple[p256.Affine, ...]]:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    return private, p256.comb_table(numbers.x, numbers.y)


KEYS = [_key() for _ in range(3)]


def _raw(private: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(private.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _oracle(private: ec.EllipticCurvePrivateKey, message: bytes, signature: bytes) -> bool:
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        private.public_key().verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(
    key_index=st.integers(0, len(KEYS) - 1),
    message=st.binary(max_size=64),
    flip=st.one_of(st.none(), st.integers(0, 63)),
)
def test_agrees_with_cryptography_on_generated_signatures(
    key_index: int, message: bytes, flip: int | None
) -> None:
    private, table = KEYS[key_index]
    signature = bytearray(_raw(private, message))
    if flip is not None:
        signature[flip] ^= 1
    ours = p256.verify_digest(hashlib.sha256(message).digest(), bytes(signature), table)
    assert ours == _oracle(private, message, bytes(signature))
    assert ours == (flip is None)


def test_another_keys_signature_and_another_message_fail() -> None:
    (private, table), (_, other_table) = KEYS[0], KEYS[1]
    signature = _raw(private, b"message")
    assert p256.verify_digest(hashlib.sha256(b"message").digest(), signature, table)
    assert not p256.verify_digest(hashlib.sha256(b"message").digest(), signature, other_table)
    assert not p256.verify_digest(hashlib.sha256(b"massage").digest(), signature, table)


def test_both_s_and_n_minus_s_verify_as_in_cryptography() -> None:
    private, table = KEYS[0]
    signature = _raw(private, b"m")
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    mirrored = r + (p256.N - s).to_bytes(32, "big")
    assert p256.verify_digest(hashlib.sha256(b"m").digest(), mirrored, table)
    assert _oracle(private, b"m", mirrored)


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (0, 0), (p256.N, 1), (1, p256.N), (p256.N + 1, 5), (2**256 - 1, 2**256 - 1)],
)
def test_r_or_s_zero_or_not_below_n_refused(r: int, s: int) -> None:
    private, table = KEYS[0]
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert not p256.verify_digest(hashlib.sha256(b"m").digest(), signature, table)
    assert not _oracle(private, b"m", signature)


def test_der_encoded_signature_refused() -> None:
    private, table = KEYS[0]
    der = private.sign(b"m", ec.ECDSA(hashes.SHA256()))
    assert der[0] == 0x30
    assert not p256.verify_digest(hashlib.sha256(b"m").digest(), der, table)
    # Right length, wrong shape: a raw signature with one byte missing or one too many.
    raw = _raw(private, b"m")
    assert not p256.verify_digest(hashlib.sha256(b"m").digest(), raw[:-1], table)
    assert not p256.verify_digest(hashlib.sha256(b"m").digest(), raw + b"\x00", table)


def test_on_curve() -> None:
    assert p256.on_curve(p256.GX, p256.GY)
    assert not p256.on_curve(p256.GX, p256.GY + 1)
    assert not p256.on_curve(p256.GX + p256.P, p256.GY)
    assert not p256.on_curve(0, 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**256 - 1))
def test_signed_digits_recompose_the_scalar(scalar: int) -> None:
    digits = p256.signed_digits(scalar)
    assert all(-15 <= digit <= 16 for digit in digits)
    assert sum(digit * 32**index for index, digit in enumerate(digits)) == scalar


def test_comb_table_entries_are_multiples_of_the_point() -> None:
    table = p256.comb_table(p256.GX, p256.GY)
    for position, multiple in [(0, 1), (0, 2), (0, 16), (1, 1), (1, 7), (50, 16)]:
        scalar = multiple * 32**position
        expected = ec.derive_private_key(scalar, ec.SECP256R1()).public_key().public_numbers()
        assert table[16 * position + multiple - 1] == (expected.x, expected.y)
