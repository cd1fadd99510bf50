"""Fixtures for the edge tests; the key and token helpers live in tests/support/tokens.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tokens import FrozenClock, SigningKey, make_key

CONFORMANCE = Path(__file__).parent / "conformance"


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return make_key("key-1")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return make_key("key-2")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
