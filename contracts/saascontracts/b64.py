"""Strict unpadded base64url (RFC 7515 §2): one canonical text per byte string."""

from __future__ import annotations

import binascii
import re

_ALPHABET_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = {char: index for index, char in enumerate(_ALPHABET_TEXT)}
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Bits of the last character that carry no data, by text length modulo 4; they must be zero.
_UNUSED_BITS = {0: 0, 2: 0x0F, 3: 0x03}


class Base64Error(ValueError):
    """The text is not canonical unpadded base64url."""


def b64url_decode(text: str) -> bytes:
    # Padding, whitespace, '+' '/' and non-zero trailing bits all give a second spelling of the same
    # bytes; refusing them keeps one token text per signature (and per cache key).
    unused = _UNUSED_BITS.get(len(text) % 4)
    if unused is None or not _ALPHABET.fullmatch(text):
        raise Base64Error("not base64url")
    if unused and _INDEX[text[-1]] & unused:
        raise Base64Error("non-canonical base64url")
    data = text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise Base64Error("not base64url") from exc


def b64url_encode(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")
