"""Fixtures for the contract package's tests; the key and token helpers live in tests/support/tokens.py."""

from __future__ import annotations

import pytest

from tests.support.tokens import EcSigningKey, FrozenClock, SigningKey, make_ec_key, make_key


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
