"""The session signer's key handling: SPKI parsing and the JWK it publishes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.services.signing import rsa_jwk, rsa_numbers_from_spki
from saascore.exceptions import ConfigurationError


def test_spki_parser_matches_cryptography():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    numbers = key.public_numbers()
    assert rsa_numbers_from_spki(der) == (numbers.n, numbers.e)
    jwk = rsa_jwk(numbers.n, numbers.e)
    assert jwk["kty"] == "RSA"
    assert jwk["e"] == "AQAB"
    assert len(jwk["kid"]) == 43  # base64url SHA-256 thumbprint


def test_spki_parser_refuses_non_rsa_documents():
    with pytest.raises(ConfigurationError):
        rsa_numbers_from_spki(bytes.fromhex("3006300102") + b"\x04\x01\x00")
