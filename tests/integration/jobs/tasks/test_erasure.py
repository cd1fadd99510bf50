"""`erase_tenants`: every tenant table at zero, Stripe customer and object versions gone, a signed receipt
left; a re-run is a no-op; an erasure interrupted at any step finishes on retry; nobody else is touched."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import psycopg
import pytest
from psycopg.rows import dict_row

from jobs.context import JobContext
from jobs.repositories import erasure as erasure_repo
from jobs.settings import get_settings
from jobs.tasks import erasure
from saascore.billing.settings import get_billing_settings
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.tenant_tables import tenant_tables
from saascore.lifecycle.receipts import verify_receipt
from tests.support.rows import insert_row
from tests.support.stripe_stub import stripe_stub
from tests.support.tenants import insert_tenant

__all__ = ["stripe_stub"]

KEY = "receipt-test-key"


@pytest.fixture
def erasing(stripe_stub, s3_bucket, monkeypatch):
    monkeypatch.setenv("ERASURE_RECEIPT_KEY", KEY)
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")
    boto3.client("s3").put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    for cached in (get_settings, get_billing_settings, get_stripe_client):
        cached.cache_clear()
    yield stripe_stub
    for cached in (get_settings, get_billing_settings, get_stripe_client):
        cached.cache_clear()


@pytest.fixture
def world(app_database, pg, erasing, s3_bucket, make_tenant):
    return app_database, pg, erasing, s3_bucket, make_tenant


def admin(pg) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(pg.server.admin_url, dbname=pg.name, autocommit=True, row_factory=dict_row)


def populate(pg, stub, bucket, tenant: uuid.UUID) -> str:
    """A row in every tenant table, a Stripe customer, and two versions of an export and a report."""
    with psycopg.connect(pg.server.admin_url, dbname=pg.name, autocommit=True) as conn:
        for table in tenant_tables(conn):
            if table.name != "tenants":
                insert_row(conn, table=table.name, tenant_column=table.tenant_column, tenant_id=tenant)
        customer = stub.add_customer()["id"]
        conn.execute(
            "UPDATE billing_customers SET stripe_customer_id = %s WHERE tenant_id = %s", (customer, tenant)
        )
    s3 = boto3.client("s3")
    for key in (f"exports/{tenant}/a.zip", f"reports/{tenant}/b.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"v1")
        s3.put_object(Bucket=bucket, Key=key, Body=b"v2")
    return str(customer)


def add_member(pg, tenant: uuid.UUID, user_id: uuid.UUID | None = None) -> uuid.UUID:
    """A membership of ``tenant`` for ``user_id`` (a new user when None); returns the user id."""
    with psycopg.connect(pg.server.admin_url, dbname=pg.name, autocommit=True) as conn:
        if user_id is None:
            created = conn.execute(
                "INSERT INTO users (idp_issuer, idp_subject, email) VALUES ('iss', gen_random_uuid()::text,"
                " 'member@x.example') RETURNING id"
            ).fetchone()
            assert created is not None
            user_id = created[0]
        ids = "SELECT id FROM memberships WHERE tenant_id = %s"
        before = {row[0] for row in conn.execute(ids, (tenant,))}
        insert_row(conn, table="memberships", tenant_column="tenant_id", tenant_id=tenant)
        (new,) = {row[0] for row in conn.execute(ids, (tenant,))} - before
        conn.execute("UPDATE memberships SET user_id = %s WHERE id = %s", (user_id, new))
    return user_id


def user_exists(pg, user_id: uuid.UUID) -> bool:
    with admin(pg) as conn:
        return conn.execute("SELECT 1 FROM users WHERE id = %s", (user_id,)).fetchone() is not None


def offboard(pg, tenant: uuid.UUID, *, due: bool = True) -> None:
    with admin(pg) as conn:
        conn.execute(
            "UPDATE tenants SET lifecycle_state = 'offboarding', lifecycle_changed_by = 'ops@example.com',"
            " erase_after = %s WHERE id = %s",
            (datetime.now(UTC) + (timedelta(days=-1) if due else timedelta(days=1)), tenant),
        )


def counts(pg, tenant: uuid.UUID) -> dict[str, int]:
    with admin(pg) as conn:
        found: dict[str, int] = {}
        for t in tenant_tables(conn):
            counted = conn.execute(
                f"SELECT count(*) AS n FROM {t.name} WHERE {t.tenant_column} = %s", (tenant,)
            ).fetchone()
            assert counted is not None
            found[t.name] = int(counted["n"])
        return found


def versions(bucket: str, tenant: uuid.UUID) -> int:
    s3 = boto3.client("s3")
    found = 0
    for prefix in (f"exports/{tenant}/", f"reports/{tenant}/"):
        page = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        found += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    return found


def receipt(pg, tenant: uuid.UUID) -> dict[str, Any]:
    with admin(pg) as conn:
        row = conn.execute("SELECT * FROM erasure_receipts WHERE erased_tenant_id = %s", (tenant,)).fetchone()
    assert row is not None, f"no erasure receipt for {tenant}"
    return row


def system_context(database) -> JobContext:
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="erase_tenants",
        tenant_id=None,
        payload={},
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def test_erasure_leaves_only_a_signed_receipt(app_database, pg, erasing, s3_bucket, make_tenant):
    doomed, kept, not_yet = make_tenant(), make_tenant(), make_tenant()
    customer = populate(pg, erasing, s3_bucket, doomed)
    kept_customer = populate(pg, erasing, s3_bucket, kept)
    only_theirs = add_member(pg, doomed)
    shared = add_member(pg, kept)
    add_member(pg, doomed, shared)
    offboard(pg, doomed)
    offboard(pg, not_yet, due=False)
    kept_before = counts(pg, kept)

    result = erasure.erase_tenants(system_context(app_database))

    assert result == {"erased": [str(doomed)]}
    after = counts(pg, doomed)
    assert set(after) == set(kept_before)  # every tenant table the live schema has is counted
    assert after == dict.fromkeys(after, 0)
    assert counts(pg, kept) == kept_before
    assert counts(pg, not_yet)["tenants"] == 1
    assert versions(s3_bucket, doomed) == 0
    assert versions(s3_bucket, kept) == 4
    assert customer not in erasing.customers
    assert kept_customer in erasing.customers
    # The identity only the erased tenant had goes; one another tenant still has stays.
    assert (user_exists(pg, only_theirs), user_exists(pg, shared)) == (False, True)

    stored = receipt(pg, doomed)
    assert stored["requested_by"] == "ops@example.com"
    assert stored["stripe_customer_id"] is None
    # By construction from tenant_tables: a table a new migration adds is erased and counted.
    assert set(stored["row_counts"]) == {*kept_before, "users"}
    assert all(n >= 1 for n in stored["row_counts"].values())
    assert stored["row_counts"]["users"] == 1
    assert verify_receipt(
        KEY,
        stored["signature"],
        tenant_id=doomed,
        completed_at=stored["completed_at"],
        requested_by=stored["requested_by"],
        row_counts=stored["row_counts"],
    )
    assert not verify_receipt(
        KEY,
        stored["signature"],
        tenant_id=doomed,
        completed_at=stored["completed_at"],
        requested_by=stored["requested_by"],
        row_counts={**stored["row_counts"], "projects": 0},
    )

    # A re-run is a no-op: nothing due, no Stripe call, the receipt unchanged.
    deletes = len(erasing.requests_to("DELETE", "/v1/customers"))
    assert erasure.erase_tenants(system_context(app_database)) == {"erased": []}
    assert erasure.erase_tenant(system_context(app_database), doomed) == stored["row_counts"]
    assert len(erasing.requests_to("DELETE", "/v1/customers")) == deletes
    assert receipt(pg, doomed) == stored


@pytest.mark.usefixtures("cells")
def test_a_tenant_in_a_dedicated_cell_is_erased_there_within_the_runs_batch_limit(
    world, dedicated_pg, monkeypatch
):
    """The job runs with the pooled cell's database; each cell answers for its own due tenants."""
    app_database, pg, erasing, s3_bucket, make_tenant = world
    dedicated = insert_tenant(dedicated_pg.owner_url, "big-co")
    customer = populate(dedicated_pg, erasing, s3_bucket, dedicated)
    offboard(dedicated_pg, dedicated)
    pooled = make_tenant()
    offboard(pg, pooled)
    monkeypatch.setenv("ERASURE_BATCH_TENANTS", "1")
    get_settings.cache_clear()

    assert erasure.erase_tenants(system_context(app_database)) == {"erased": [str(pooled)]}
    assert counts(dedicated_pg, dedicated)["tenants"] == 1  # the batch was spent in the pooled cell
    assert erasure.erase_tenants(system_context(app_database)) == {"erased": [str(dedicated)]}

    after = counts(dedicated_pg, dedicated)
    assert after == dict.fromkeys(after, 0)
    assert versions(s3_bucket, dedicated) == 0
    assert customer not in erasing.customers
    assert receipt(dedicated_pg, dedicated)["row_counts"]["tenants"] == 1
    assert erasure.erase_tenants(system_context(app_database)) == {"erased": []}


@pytest.mark.parametrize("step", ["stripe", "objects", "rows"])
def test_an_interrupted_erasure_finishes_on_retry(world, monkeypatch, step):
    app_database, pg, erasing, s3_bucket, make_tenant = world
    tenant = make_tenant()
    customer = populate(pg, erasing, s3_bucket, tenant)
    offboard(pg, tenant)
    before = counts(pg, tenant)

    original_delete_objects, original_erase_rows = erasure._delete_objects, erasure_repo.erase_rows

    class Crash(Exception):
        pass

    def crash(*_args, **_kwargs):
        raise Crash(step)

    if step == "stripe":
        erasing.fail_next("/v1/customers", 500)
    elif step == "objects":
        monkeypatch.setattr(erasure, "_delete_objects", crash)
    else:
        real = erasure_repo.erase_rows
        seen = []

        def erase_some(conn, *, table):
            seen.append(table)
            if len(seen) == 5:
                raise Crash(table)
            return real(conn, table=table)

        monkeypatch.setattr(erasure_repo, "erase_rows", erase_some)
    with pytest.raises(Exception):  # noqa: B017, PT011 - a Stripe error or the injected crash
        erasure.erase_tenants(system_context(app_database))
    # Nothing of the tenant's rows is gone (the row step is one transaction); the receipt is started.
    assert counts(pg, tenant) == before
    started = receipt(pg, tenant)
    assert (started["completed_at"], started["stripe_customer_id"]) == (None, customer)

    monkeypatch.setattr(erasure, "_delete_objects", original_delete_objects)
    monkeypatch.setattr(erasure_repo, "erase_rows", original_erase_rows)
    assert erasure.erase_tenants(system_context(app_database)) == {"erased": [str(tenant)]}
    assert counts(pg, tenant) == dict.fromkeys(before, 0)
    assert receipt(pg, tenant)["completed_at"] is not None
    assert customer not in erasing.customers
    assert versions(s3_bucket, tenant) == 0


def test_the_erasure_functions_refuse_a_tenant_that_is_not_due(pg, make_tenant):
    active, early = make_tenant(), make_tenant()
    offboard(pg, early, due=False)
    for tenant in (active, early):
        with psycopg.connect(pg.app_url, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT app.set_tenant(%s)", (tenant,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not due for erasure"):
                conn.execute("SELECT app.erase_tenant_rows('projects')")
    with (
        psycopg.connect(pg.app_url, autocommit=True) as conn,
        conn.transaction(),
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT * FROM erasure_receipts")
