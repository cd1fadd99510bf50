"""Keyset cursors are bound to the query that made them."""

from __future__ import annotations

import pytest

from api.exceptions import (
    MalformedRequestError,
)
from api.services.pagination import decode_cursor, encode_cursor


def test_cursor_is_bound_to_its_query():
    scope = {"sort": "name", "status": None}
    cursor = encode_cursor(["abc", "id-1"], scope)
    assert decode_cursor(cursor, scope, size=2) == ["abc", "id-1"]
    with pytest.raises(MalformedRequestError):
        decode_cursor(cursor, {**scope, "sort": "-name"}, size=2)
    for junk in ("", "!!!", "e30", "x" * 600):
        with pytest.raises(MalformedRequestError):
            decode_cursor(junk, scope, size=2)
