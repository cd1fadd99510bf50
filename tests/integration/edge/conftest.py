"""Signing keys for the edge integration tests (same helpers as the unit tier)."""

from __future__ import annotations

import pytest

from tests.support.tokens import SigningKey, make_key


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return make_key("key-1")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return make_key("key-2")
