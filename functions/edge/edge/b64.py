"""Strict unpadded base64url (RFC 7515 §2): one canonical text per byte string."""

from __future__ import annotations

import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_FROM_URLSAFE = str.maketrans("-_", "+/")
_TO_URLSAFE = str.maketrans("+/", "-_")


class Base64Error(ValueError):
    """The text is not canonical unpadded base64url."""


def b64url_decode(text: str) -> bytes:
    # Padding, whitespace, '+' '/' and non-zero trailing bits all give a second spelling of the same
    # bytes; refusing them keeps one token text per signature (and per cache key).
    if len(text) % 4 == 1 or not _ALPHABET.fullmatch(text):
        raise Base64Error("not base64url")
    try:
        raw = binascii.a2b_base64((text + "=" * (-len(text) % 4)).translate(_FROM_URLSAFE), strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise Base64Error("not base64url") from exc
    if b64url_encode(raw) != text:
        raise Base64Error("non-canonical base64url")
    return raw


def b64url_encode(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).rstrip(b"=").decode("ascii").translate(_TO_URLSAFE)
