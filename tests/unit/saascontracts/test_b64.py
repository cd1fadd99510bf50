from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saascontracts.b64 import Base64Error, b64url_decode, b64url_encode


@given(st.binary(max_size=300))
def test_round_trip(raw: bytes) -> None:
    text = b64url_encode(raw)
    assert text == base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert b64url_decode(text) == raw


def reference(text: str) -> bytes | None:
    """Canonical unpadded base64url by the stdlib's lenient decoder plus a re-encoding check."""
    if "=" in text or not text.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text else None


@given(st.text(alphabet="AQgwBCDab_-+/=9 \n.é", max_size=12))
def test_only_canonical_text_decodes(text: str) -> None:
    expected = reference(text)
    if expected is None:
        with pytest.raises(Base64Error):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected
