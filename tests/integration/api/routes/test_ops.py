"""GET /api/v1/ops/report: platform operators (owners and admins of a registered operator tenant) read the
month's business figures; everyone else, tenant owners included, gets 403 problem+json; a bad month is 422."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def _operator(api):
    owner = api.sign_up()
    api.owner_sql(
        owner.tenant_id, "INSERT INTO app.platform_operators (tenant_id) VALUES (%s)", (owner.tenant_id,)
    )
    return owner


def _refresh(api):
    import psycopg

    with psycopg.connect(api.owner_url, autocommit=True) as conn:
        conn.execute("SELECT * FROM app.refresh_business_views()")


def test_an_operator_reads_this_months_signups_and_active_users(api):
    operator = _operator(api)
    customer = api.sign_up()
    _refresh(api)
    response = api.client.get("/api/v1/ops/report", headers=operator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["month"] == datetime.now(UTC).strftime("%Y-%m")
    assert body["signups"] == 2
    assert body["trial_to_paid_rate"] == 0.0
    assert body["mrr"] == {
        "start": 0,
        "end": 0,
        "new": 0,
        "expansion": 0,
        "contraction": 0,
        "churn": 0,
        "net": 0,
        "paying_tenants": 0,
    }
    active = {(row["tenant_id"], row["active_users"]) for row in body["active_users"]}
    assert {(str(operator.tenant_id), 1), (str(customer.tenant_id), 1)} <= active


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_tenant_owners_and_admins_elsewhere_are_refused(api, role):
    _operator(api)
    owner = api.sign_up()
    caller = owner if role == "owner" else api.join(owner, role)
    response = api.client.get("/api/v1/ops/report", headers=caller.headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/permission-denied")


def test_a_member_of_the_operator_tenant_is_refused(api):
    operator = _operator(api)
    member = api.join(operator, "member")
    assert api.client.get("/api/v1/ops/report", headers=member.headers).status_code == 403


def test_a_tenant_user_with_a_bad_month_still_gets_403(api):
    owner = api.sign_up()
    assert api.client.get("/api/v1/ops/report?month=nope", headers=owner.headers).status_code == 403


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "11-2026", "2026-11-01", "last-month"])
def test_an_unknown_report_period_is_a_422(api, month):
    operator = _operator(api)
    response = api.client.get(f"/api/v1/ops/report?month={month}", headers=operator.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_past_month_without_data_is_zero_not_an_error(api):
    operator = _operator(api)
    _refresh(api)
    body = api.client.get("/api/v1/ops/report?month=2020-02", headers=operator.headers).json()
    assert (body["signups"], body["days"], body["active_users"], body["trial_to_paid_rate"]) == (
        0,
        [],
        [],
        None,
    )
