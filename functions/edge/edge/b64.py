"""Strict unpadded base64url (RFC 7515 §2): one canonical text per byte string."""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


class Base64Error(ValueError):
    """The text is not canonical unpadded base64url."""


def b64url_decode(text: str) -> bytes:
    # Padding, whitespace, '+' '/' and non-zero trailing bits all give a second spelling of the same
    # bytes; refusing them keeps one token text per signature (and per cache key).
    if len(text) % 4 == 1 or not _ALPHABET.fullmatch(text):
        raise Base64Error("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Base64Error("not base64url") from exc
    if b64url_encode(raw) != text:
        raise Base64Error("non-canonical base64url")
    return raw


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
