"""The audit diff keeps only what changed."""

from __future__ import annotations

from api.services.audit import diff


def test_audit_diff_keeps_only_changes():
    before = {"name": "a", "version": 1, "status": "active"}
    after = {"name": "b", "version": 2, "status": "active"}
    assert diff(before, after) == ({"name": "a", "version": 1}, {"name": "b", "version": 2})
    assert diff(None, after) == (None, after)
    assert diff(before, None) == (before, None)
