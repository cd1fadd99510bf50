"""Rate limits follow the plan."""

from __future__ import annotations

from api.services.ratelimit import limits_for


def test_rate_limits_follow_the_plan():
    assert limits_for("free") == (120, 60)
    assert limits_for("pro") == (3000, 750)
    assert limits_for("unknown-plan") == limits_for("free")
