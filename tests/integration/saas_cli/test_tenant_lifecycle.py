"""`saas tenants suspend|reactivate|offboard` against the real API app: the next request of a suspended
tenant is refused by the session check, its Stripe events and scheduled jobs keep being recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobs.scheduler import ScheduledEvent, schedule
from saas_cli.main import main
from saas_cli.stripe_samples import event, subscription
from tests.integration.api.harness import ApiHarness, api
from webhooks.dispatch import process_event

__all__ = ["api"]


def saas(pg, *args: str) -> int:
    return main(["tenants", *args, "--database-url", pg.app_url, "--requested-by", "ops@example.com"])


def lifecycle_row(api: ApiHarness, tenant_id) -> tuple[Any, ...]:
    [row] = api.owner_sql(
        tenant_id,
        "SELECT lifecycle_state, lifecycle_hold, erase_after, lifecycle_note FROM tenants WHERE id = %s",
        (tenant_id,),
    )
    return tuple(row)


def lifecycle_audit(api: ApiHarness, tenant_id) -> list[tuple[Any, ...]]:
    return api.owner_sql(
        tenant_id,
        "SELECT action, actor_type, before->>'lifecycle_state', after->>'lifecycle_state',"
        " after->>'requested_by' FROM audit_logs WHERE actor_type <> 'user' AND action LIKE 'tenant.%%' ORDER BY created_at",
    )


def test_suspend_refuses_the_next_request_and_reactivate_restores_it(api, pg, capsys) -> None:
    owner = api.sign_up("acme-suspend")
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 200
    tenant = "acme-suspend"  # by slug here, by id elsewhere

    assert saas(pg, "suspend", tenant, "--note", "abuse report 42") == 0
    refused = api.client.get("/api/v1/projects", headers=owner.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/tenant-suspended")
    assert problem["lifecycle_state"] == "suspended"
    assert "suspended" in problem["detail"]
    # Billing, too: an operator's suspension is not the kind that paying ends.
    assert api.client.get("/api/v1/billing/subscription", headers=owner.headers).status_code == 403

    assert saas(pg, "reactivate", tenant) == 0
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 200
    assert lifecycle_row(api, owner.tenant_id)[:2] == ("active", None)
    assert lifecycle_audit(api, owner.tenant_id) == [
        ("tenant.suspended", "system", "active", "suspended", "ops@example.com"),
        ("tenant.reactivated", "system", "suspended", "active", "ops@example.com"),
    ]
    out = capsys.readouterr().out
    assert "active -> suspended (held by operator)" in out
    assert "suspended -> active" in out


def test_each_command_is_idempotent(api, pg, capsys) -> None:
    owner = api.sign_up()
    tenant = str(owner.tenant_id)
    assert saas(pg, "suspend", tenant) == 0
    assert saas(pg, "suspend", tenant) == 0
    assert "already suspended (held by operator); nothing changed" in capsys.readouterr().out
    assert saas(pg, "offboard", tenant, "--grace-days", "10") == 0
    first_erase_after = lifecycle_row(api, owner.tenant_id)[2]
    assert saas(pg, "offboard", tenant, "--grace-days", "20") == 0
    assert lifecycle_row(api, owner.tenant_id)[2] == first_erase_after
    assert [entry[0] for entry in lifecycle_audit(api, owner.tenant_id)] == [
        "tenant.suspended",
        "tenant.offboarding_started",
    ]


def test_offboarding_keeps_reads_refuses_writes_and_reactivate_cancels_it(api, pg) -> None:
    owner = api.sign_up()
    tenant = str(owner.tenant_id)
    before = datetime.now(UTC)
    assert saas(pg, "offboard", tenant, "--grace-days", "14") == 0
    state, hold, erase_after, _ = lifecycle_row(api, owner.tenant_id)
    assert (state, hold) == ("offboarding", None)
    assert before + timedelta(days=14) <= erase_after <= datetime.now(UTC) + timedelta(days=14)

    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 200
    write = api.client.post("/api/v1/projects", json={"name": "P"}, headers=owner.headers)
    assert write.status_code == 403
    assert write.json()["type"].endswith("/tenant-offboarding")
    assert write.json()["erase_after"] == erase_after.isoformat()

    assert saas(pg, "reactivate", tenant) == 0
    assert lifecycle_row(api, owner.tenant_id)[:3] == ("active", None, None)
    assert api.client.post("/api/v1/projects", json={"name": "P"}, headers=owner.headers).status_code == 201
    assert lifecycle_audit(api, owner.tenant_id)[-1][0] == "tenant.offboarding_canceled"


def test_a_transition_not_allowed_exits_1_naming_the_state_and_changes_nothing(api, pg, capsys) -> None:
    owner = api.sign_up()
    tenant = str(owner.tenant_id)
    assert saas(pg, "offboard", tenant) == 0
    before = lifecycle_row(api, owner.tenant_id)
    assert saas(pg, "suspend", tenant) == 1
    err = capsys.readouterr().err
    assert "it is offboarding; reactivate it first" in err
    assert lifecycle_row(api, owner.tenant_id) == before


def test_an_unknown_tenant_or_a_long_note_is_refused(api, pg, capsys) -> None:
    assert saas(pg, "suspend", "no-such-tenant") == 1
    assert "no tenant 'no-such-tenant'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        saas(pg, "suspend", str(api.sign_up().tenant_id), "--note", "x" * 501)
    assert exited.value.code == 2
    assert "at most 500 characters" in capsys.readouterr().err


def test_a_suspended_tenant_still_records_stripe_events_and_scheduled_jobs(api, pg, app_database) -> None:
    owner = api.sign_up()
    tenant = str(owner.tenant_id)
    customer = "cus_suspended1"
    api.owner_sql(
        owner.tenant_id,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
        (owner.tenant_id, customer),
    )
    assert saas(pg, "suspend", tenant) == 0
    sub = subscription(customer=customer, tenant_id=str(owner.tenant_id), status="active")
    result = process_event(event("customer.subscription.created", sub))
    assert result.outcome == "applied"
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM stripe_events") == [(1,)]
    # Billing does not lift the operator's hold.
    assert lifecycle_row(api, owner.tenant_id)[:2] == ("suspended", "operator")
    schedule(ScheduledEvent(job_type="expire_sessions"), database=app_database)
    assert api.owner_sql(owner.tenant_id, "SELECT type, status FROM jobs") == [("expire_sessions", "queued")]


def test_billing_suspension_is_mirrored_and_lifted_by_billing_alone(api, pg, capsys) -> None:
    owner = api.sign_up()
    tenant = str(owner.tenant_id)
    customer = "cus_billing1"
    api.owner_sql(
        owner.tenant_id,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
        (owner.tenant_id, customer),
    )
    t0 = int(datetime.now(UTC).timestamp()) - 3600
    sub: dict[str, Any] = {"customer": customer, "tenant_id": str(owner.tenant_id), "created": t0}
    past_due = subscription(**sub, subscription_id="sub_old", status="past_due")
    process_event(event("customer.subscription.created", past_due, created=t0))
    canceled = subscription(
        **sub, subscription_id="sub_old", status="canceled", cancellation_reason="payment_failed"
    )
    process_event(event("customer.subscription.deleted", canceled, created=t0 + 5))
    assert lifecycle_row(api, owner.tenant_id)[:2] == ("suspended", "billing")
    # The session check lets billing through so the customer can pay; everything else is refused.
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 403
    assert api.client.get("/api/v1/billing/subscription", headers=owner.headers).status_code == 200

    assert saas(pg, "reactivate", tenant) == 1
    assert "held by billing" in capsys.readouterr().err

    new = subscription(**sub, subscription_id="sub_new", status="active")
    process_event(event("customer.subscription.created", new, created=t0 + 10))
    assert lifecycle_row(api, owner.tenant_id)[:2] == ("active", None)
    assert [(a[0], a[1]) for a in lifecycle_audit(api, owner.tenant_id)] == [
        ("tenant.suspended", "stripe"),
        ("tenant.reactivated", "stripe"),
    ]


def test_receipt_shows_an_erasure_and_checks_its_signature(pg, monkeypatch, capsys) -> None:
    import json
    import uuid

    import psycopg
    from psycopg.types.json import Jsonb

    from saascore.lifecycle.receipts import sign_receipt

    tenant_id, at, counts = uuid.uuid4(), datetime.now(UTC), {"projects": 3, "tenants": 1}
    signature = sign_receipt("k", tenant_id=tenant_id, completed_at=at, requested_by="ops", row_counts=counts)
    with psycopg.connect(pg.owner_url) as conn:
        conn.execute(
            "INSERT INTO erasure_receipts (erased_tenant_id, requested_by, completed_at, row_counts, signature)"
            " VALUES (%s, 'ops', %s, %s, %s)",
            (tenant_id, at, Jsonb(counts), signature),
        )
    monkeypatch.setenv("ERASURE_RECEIPT_KEY", "k")
    args = ["tenants", "receipt", str(tenant_id), "--database-url", pg.app_url]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert json.loads(out[: out.rindex("}") + 1])["row_counts"] == counts
    assert "signature valid" in out
    with psycopg.connect(pg.owner_url) as conn:
        conn.execute('UPDATE erasure_receipts SET row_counts = \'{"projects": 0, "tenants": 1}\'')
    assert main(args) == 1
    assert "SIGNATURE INVALID" in capsys.readouterr().out
    assert main(["tenants", "receipt", str(uuid.uuid4()), "--database-url", pg.app_url]) == 1
    assert "has no erasure" in capsys.readouterr().err
