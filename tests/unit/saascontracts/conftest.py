"""Fixtures for the contract package's tests: the key and clock fixtures of tests/support/tokens.py."""

from __future__ import annotations

from tests.support.tokens import clock, ec_key, other_key, signing_key

__all__ = ["clock", "ec_key", "other_key", "signing_key"]
