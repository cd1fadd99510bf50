"""Access decisions: permissions, access levels, the effective plan, grace periods."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api.exceptions import (
    PermissionDeniedError,
    TenantAccessError,
    TenantOffboardingError,
    TenantSuspendedError,
)
from api.services.access import Access, access_from_row, authorize, effective_plan
from api.services.identity import Principal

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def access(permissions, level="full"):
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    return Access(principal, "member", frozenset(permissions), "starter", level, "active")


def _access_row(
    access_level: str, grace_ends_at: datetime | None, lifecycle: tuple[str, str | None] = ("active", None)
) -> dict[str, object]:
    return {
        "lifecycle_state": lifecycle[0],
        "lifecycle_hold": lifecycle[1],
        "erase_after": NOW + timedelta(days=30) if lifecycle[0] == "offboarding" else None,
        "session_active": True,
        "role_key": "member",
        "permissions": ["projects:read", "projects:create"],
        "plan": "starter",
        "access_level": access_level,
        "billing_grace_ends_at": grace_ends_at,
        "billing_status": "past_due",
        "trial_ends_at": None,
    }


def test_authorize_checks_permission_and_access_level():
    authorize(access({"projects:create"}), "projects:create", "POST")
    with pytest.raises(PermissionDeniedError):
        authorize(access({"projects:read"}), "projects:create", "POST")
    authorize(access({"projects:read"}, "read_only"), "projects:read", "GET")
    with pytest.raises(TenantAccessError):
        authorize(access({"projects:create"}, "read_only"), "projects:create", "POST")
    with pytest.raises(TenantAccessError):
        authorize(access({"projects:read"}, "suspended"), "projects:read", "GET")
    authorize(access({"billing:manage"}, "suspended"), "billing:manage", "POST")


def test_effective_plan_lapses_trial_to_free():
    assert effective_plan("starter", "trialing", NOW + timedelta(days=1), NOW) == "starter"
    assert effective_plan("starter", "trialing", NOW - timedelta(seconds=1), NOW) == "free"
    assert effective_plan("pro", "active", NOW - timedelta(days=9), NOW) == "pro"


@pytest.mark.parametrize(
    ("stored", "grace_ends_in", "expected"),
    [
        ("grace", timedelta(days=1), "grace"),
        ("grace", timedelta(seconds=-1), "read_only"),
        ("full", timedelta(seconds=-1), "full"),
        ("suspended", None, "suspended"),
    ],
)
def test_an_expired_grace_period_is_enforced_without_waiting_for_a_stripe_event(
    stored, grace_ends_in, expected
):
    now = datetime(2026, 11, 24, tzinfo=UTC)
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    grace_ends_at = None if grace_ends_in is None else now + grace_ends_in
    access = access_from_row(principal, _access_row(stored, grace_ends_at), now)
    assert access.access_level == expected
    if expected == "read_only":
        authorize(access, "projects:read", "GET")
        with pytest.raises(TenantAccessError):
            authorize(access, "projects:create", "POST")


def test_an_operator_suspension_refuses_every_request_at_the_session_check():
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    with pytest.raises(TenantSuspendedError) as raised:
        access_from_row(principal, _access_row("full", None, ("suspended", "operator")), NOW)
    assert raised.value.extensions == {"lifecycle_state": "suspended"}
    # A billing hold leaves the way to billing open (the access level decides, as before).
    held = access_from_row(principal, _access_row("suspended", None, ("suspended", "billing")), NOW)
    with pytest.raises(TenantAccessError):
        authorize(held, "projects:read", "GET")


def test_an_offboarding_tenant_reads_but_does_not_write():
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    offboarding = access_from_row(principal, _access_row("full", None, ("offboarding", None)), NOW)
    authorize(offboarding, "projects:read", "GET")
    with pytest.raises(TenantOffboardingError) as raised:
        authorize(offboarding, "projects:create", "POST")
    assert raised.value.extensions["erase_after"] == (NOW + timedelta(days=30)).isoformat()
