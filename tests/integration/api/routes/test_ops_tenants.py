"""POST /api/v1/ops/tenants/{tenant_id}/suspend|reactivate|offboard: a platform operator moves another tenant
through its lifecycle with the transitions `saas tenants` uses. 200 with the resulting lifecycle, a repeat
200 with nothing changed, 409 naming the state, 404 for an unknown tenant, 403 for everyone else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.api.harness import ApiHarness, Session, api

__all__ = ["api"]

BASE = "/api/v1/ops/tenants"


def _operator(api: ApiHarness) -> Session:
    owner = api.sign_up()
    api.owner_sql(
        owner.tenant_id, "INSERT INTO app.platform_operators (tenant_id) VALUES (%s)", (owner.tenant_id,)
    )
    return owner


def _tenant_audit(api: ApiHarness, tenant_id: uuid.UUID) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in api.owner_sql(
            tenant_id,
            "SELECT action, actor_type, after->>'lifecycle_state', after->>'requested_by', after->>'note'"
            " FROM audit_logs WHERE actor_type = 'system' AND action LIKE 'tenant.%%' ORDER BY created_at",
        )
    ]


def _events(api: ApiHarness, tenant_id: uuid.UUID) -> list[str]:
    return [
        row[0]
        for row in api.owner_sql(
            tenant_id, "SELECT type FROM events WHERE type LIKE 'tenant.%%' ORDER BY occurred_at"
        )
    ]


def test_suspend_refuses_the_tenant_and_reactivate_restores_it(api):
    operator = _operator(api)
    customer = api.sign_up()

    response = api.client.post(
        f"{BASE}/{customer.tenant_id}/suspend", json={"note": "abuse report 7"}, headers=operator.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] is True
    assert body["action"] == "suspend"
    assert body["detail"] == "active -> suspended (held by operator)"
    assert body["lifecycle"] == {
        "state": "suspended",
        "hold": "operator",
        "erase_after": None,
        "note": "abuse report 7",
    }
    assert body["previous"]["state"] == "active"
    refused = api.client.get("/api/v1/projects", headers=customer.headers)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/tenant-suspended")

    again = api.client.post(f"{BASE}/{customer.tenant_id}/suspend", headers=operator.headers)
    assert again.status_code == 200
    assert (again.json()["changed"], again.json()["detail"]) == (
        False,
        "already suspended (held by operator); nothing changed",
    )

    back = api.client.post(f"{BASE}/{customer.tenant_id}/reactivate", headers=operator.headers)
    assert back.status_code == 200
    assert back.json()["lifecycle"]["state"] == "active"
    assert api.client.get("/api/v1/projects", headers=customer.headers).status_code == 200

    # The customer's audit log names the operator; a repeat wrote nothing; each change is one event.
    operator_name = f"platform operator {operator.user_id} of tenant {operator.tenant_id}"
    assert _tenant_audit(api, customer.tenant_id) == [
        ("tenant.suspended", "system", "suspended", operator_name, "abuse report 7"),
        ("tenant.reactivated", "system", "active", operator_name, None),
    ]
    assert _events(api, customer.tenant_id) == ["tenant.suspended", "tenant.reactivated"]
    # The operator's own audit log keeps what it did to which tenant, as the operator user.
    mine = api.owner_sql(
        operator.tenant_id,
        "SELECT action, actor_user_id, resource_type, resource_id FROM audit_logs"
        " WHERE action LIKE 'ops.%%' ORDER BY created_at",
    )
    assert [tuple(row) for row in mine] == [
        ("ops.tenant.suspended", operator.user_id, "tenant", str(customer.tenant_id)),
        ("ops.tenant.reactivated", operator.user_id, "tenant", str(customer.tenant_id)),
    ]


def test_offboard_sets_the_erasure_date_and_a_repeat_keeps_it(api):
    operator = _operator(api)
    customer = api.sign_up()
    before = datetime.now(UTC)
    response = api.client.post(
        f"{BASE}/{customer.tenant_id}/offboard", json={"grace_days": 7}, headers=operator.headers
    )
    assert response.status_code == 200, response.text
    lifecycle = response.json()["lifecycle"]
    assert lifecycle["state"] == "offboarding"
    erase_after = datetime.fromisoformat(lifecycle["erase_after"])
    assert before + timedelta(days=7) <= erase_after <= datetime.now(UTC) + timedelta(days=7)

    again = api.client.post(
        f"{BASE}/{customer.tenant_id}/offboard", json={"grace_days": 30}, headers=operator.headers
    )
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["lifecycle"]["erase_after"] == lifecycle["erase_after"]

    canceled = api.client.post(f"{BASE}/{customer.tenant_id}/reactivate", headers=operator.headers)
    assert canceled.json()["detail"] == "offboarding -> active"
    assert [row[0] for row in _tenant_audit(api, customer.tenant_id)] == [
        "tenant.offboarding_started",
        "tenant.offboarding_canceled",
    ]


def test_offboard_without_a_body_takes_the_configured_grace_period(api, monkeypatch):
    from saascore.lifecycle.settings import get_lifecycle_settings

    monkeypatch.setenv("LIFECYCLE_ERASURE_GRACE_DAYS", "3")
    get_lifecycle_settings.cache_clear()
    try:
        operator = _operator(api)
        customer = api.sign_up()
        response = api.client.post(f"{BASE}/{customer.tenant_id}/offboard", headers=operator.headers)
    finally:
        get_lifecycle_settings.cache_clear()
    erase_after = datetime.fromisoformat(response.json()["lifecycle"]["erase_after"])
    assert timedelta(days=2, hours=23) < erase_after - datetime.now(UTC) <= timedelta(days=3)


def test_a_transition_not_allowed_from_the_state_is_a_409_naming_it(api):
    operator = _operator(api)
    customer = api.sign_up()
    api.client.post(f"{BASE}/{customer.tenant_id}/offboard", headers=operator.headers)
    refused = api.client.post(f"{BASE}/{customer.tenant_id}/suspend", headers=operator.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/lifecycle-transition-not-allowed")
    assert problem["lifecycle_state"] == "offboarding"
    assert problem["lifecycle_hold"] is None
    assert "it is offboarding" in problem["detail"]
    # Nothing changed, nothing audited, in either tenant.
    assert [row[0] for row in _tenant_audit(api, customer.tenant_id)] == ["tenant.offboarding_started"]
    ops_entries = api.owner_sql(
        operator.tenant_id, "SELECT action FROM audit_logs WHERE action LIKE 'ops.%%' ORDER BY created_at"
    )
    assert [row[0] for row in ops_entries] == ["ops.tenant.offboarding_started"]


def test_a_billing_hold_is_not_lifted_by_an_operator(api):
    operator = _operator(api)
    customer = api.sign_up()
    api.owner_sql(
        customer.tenant_id,
        "UPDATE tenants SET access_level = 'suspended', lifecycle_state = 'suspended',"
        " lifecycle_hold = 'billing' WHERE id = %s",
        (customer.tenant_id,),
    )
    refused = api.client.post(f"{BASE}/{customer.tenant_id}/reactivate", headers=operator.headers)
    assert refused.status_code == 409
    assert (refused.json()["lifecycle_state"], refused.json()["lifecycle_hold"]) == ("suspended", "billing")


def test_an_unknown_tenant_is_a_404_and_the_operators_own_tenant_a_409(api):
    operator = _operator(api)
    missing = api.client.post(f"{BASE}/{uuid.uuid4()}/suspend", headers=operator.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    own = api.client.post(f"{BASE}/{operator.tenant_id}/suspend", headers=operator.headers)
    assert own.status_code == 409
    assert api.client.get("/api/v1/projects", headers=operator.headers).status_code == 200
    assert api.client.post(f"{BASE}/not-a-uuid/suspend", headers=operator.headers).status_code == 422


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("offboard", {"grace_days": 366}),
        ("offboard", {"grace_days": -1}),
        ("suspend", {"note": "x" * 501}),
        ("suspend", {"note": ""}),
        ("suspend", {"grace_days": 3}),
    ],
)
def test_bodies_out_of_bounds_are_422_and_change_nothing(api, action, body):
    operator = _operator(api)
    customer = api.sign_up()
    response = api.client.post(f"{BASE}/{customer.tenant_id}/{action}", json=body, headers=operator.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _tenant_audit(api, customer.tenant_id) == []


def test_the_longest_grace_period_is_accepted(api):
    operator = _operator(api)
    customer = api.sign_up()
    response = api.client.post(
        f"{BASE}/{customer.tenant_id}/offboard", json={"grace_days": 365}, headers=operator.headers
    )
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_other_tenants_staff_are_refused_and_change_nothing(api, role):
    _operator(api)
    owner = api.sign_up()
    victim = api.sign_up()
    caller = owner if role == "owner" else api.join(owner, role)
    for action in ("suspend", "reactivate", "offboard"):
        response = api.client.post(f"{BASE}/{victim.tenant_id}/{action}", headers=caller.headers)
        assert response.status_code == 403
        assert response.json()["type"].endswith("/permission-denied")
    assert _tenant_audit(api, victim.tenant_id) == []
    assert api.client.get("/api/v1/projects", headers=victim.headers).status_code == 200


def test_a_member_of_the_operator_tenant_is_refused(api):
    operator = _operator(api)
    member = api.join(operator, "member")
    customer = api.sign_up()
    response = api.client.post(f"{BASE}/{customer.tenant_id}/suspend", headers=member.headers)
    assert response.status_code == 403


def test_the_tenant_switch_refuses_a_transaction_that_is_not_an_operators(api, pg):
    import psycopg

    customer = api.sign_up()
    other = api.sign_up()
    with psycopg.connect(pg.app_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (other.tenant_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT app.ops_enter_tenant(%s)", (customer.tenant_id,))
