"""Flags evaluated at the edge (local/flags.json) reach the API, which echoes them in GET /me."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningStack, wait_for
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e


def test_flags_follow_the_session_plan_and_client_sent_flags_are_ignored(stack: RunningStack) -> None:
    session = sign_in(stack, "judy@example.com", "flagco")
    try:
        me = session.client.get("/api/v1/me", headers={"x-flags": '{"new-dashboard": true}'}).json()
        flags, experiments = me["flags"], me["experiments"]
        assert flags["csv-reports"] is True  # default on
        assert flags["new-dashboard"] is False  # pro-only; the forged client header was stripped
        assert flags["max-upload-mb"] == 10
        assert experiments["checkout-button"] in {"0", "1"}
        assert flags["checkout-button"] == ["blue", "green"][int(experiments["checkout-button"])]
        stack.saas("webhooks", "send", "customer.subscription.updated", "--tenant", "flagco", "--plan", "pro")
        wait_for(
            lambda: session.client.get("/api/v1/billing/subscription").json()["plan"] == "pro",
            timeout=60,
            what="the upgrade",
        )
    finally:
        session.close()
    upgraded = sign_in(stack, "judy@example.com", "flagco")  # the new session's plan claim is pro
    try:
        flags = upgraded.client.get("/api/v1/me").json()["flags"]
        assert flags["new-dashboard"] is True
        assert flags["max-upload-mb"] == 100
    finally:
        upgraded.close()
