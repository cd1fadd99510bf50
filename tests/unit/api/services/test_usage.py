"""The usage service's pure rules: the hard-limit decision and the UTC calendar month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.services.usage import decide, month_start
from saascore.billing.plans import PLANS


@pytest.mark.parametrize(
    ("used", "quantity", "allowed"), [(0, 1000, True), (999, 1, True), (1000, 1, False), (0, 1001, False)]
)
def test_hard_limit_decision_on_the_free_plan(used, quantity, allowed):
    assert decide(used=used, quantity=quantity, entitlements=PLANS["free"].entitlements) is allowed


def test_unlimited_plans_never_refuse():
    assert decide(used=10**12, quantity=10**6, entitlements=PLANS["pro"].entitlements)


def test_usage_months_start_at_utc_midnight_on_the_first():
    assert month_start(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(2026, 11, 1, tzinfo=UTC)
