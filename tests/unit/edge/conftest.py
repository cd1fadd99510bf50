"""Fixtures for the edge tests: the key and clock fixtures of tests/support/tokens.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.tokens import clock, other_key, signing_key

__all__ = ["clock", "other_key", "signing_key"]

CONFORMANCE = Path(__file__).parent / "conformance"
