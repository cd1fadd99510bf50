"""Validation errors point at the offending member (JSON pointer or parameter name)."""

from __future__ import annotations

from api.problems import _pointer


def test_validation_pointer_forms():
    assert _pointer(("body", "name")) == {"pointer": "#/name"}
    assert _pointer(("body", "a/b", 0)) == {"pointer": "#/a~1b/0"}
    assert _pointer(("query", "limit")) == {"query": "limit"}
    assert _pointer(("header", "if-match")) == {"header": "if-match"}
