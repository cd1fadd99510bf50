"""Opaque keyset cursors: base64url JSON of the last row's sort key, bound to the sort and filters used."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from api.exceptions import MalformedRequestError

MAX_CURSOR_CHARS = 512


def _binding(scope: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(scope, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(values: list[Any], scope: dict[str, Any]) -> str:
    document = json.dumps({"v": values, "b": _binding(scope)}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, scope: dict[str, Any], *, size: int) -> list[Any]:
    """The key values inside ``cursor``; a cursor from another sort/filter or a forged one is a 400."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = document["v"]
        if document["b"] != _binding(scope) or not isinstance(values, list) or len(values) != size:
            raise ValueError("cursor does not match this query")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise MalformedRequestError(
            "the cursor is invalid for this query; start from the first page"
        ) from exc
    return values


def keyset_after(cursor: str | None, scope: dict[str, Any]) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) a ``created_at, id`` keyset page starts after; None for the first page."""
    if cursor is None:
        return None
    values = decode_cursor(cursor, scope, size=2)
    try:
        return datetime.fromisoformat(str(values[0])), uuid.UUID(str(values[1]))
    except ValueError as exc:
        raise MalformedRequestError("the cursor is invalid for this query") from exc
