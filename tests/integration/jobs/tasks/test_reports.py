from __future__ import annotations

import csv
import io
import tracemalloc
import urllib.request
import uuid

import boto3
import pytest

from jobs.clients import get_s3_client
from jobs.context import JobContext
from jobs.settings import get_settings
from jobs.tasks.reports import project_report

ROWS = 50_000


def context(tenant, database, payload=None):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="project_report",
        tenant_id=tenant,
        payload=payload or {},
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def seed_projects(owner_sql, tenant, rows, *, name="Project"):
    # 240 varied characters of description make the CSV ~16 MB: three full 5 MiB parts and a tail.
    owner_sql(
        tenant,
        "INSERT INTO projects (tenant_id, name, description, status, created_at) "
        "SELECT %s, %s || ' ' || g || ', \"quoted\"', repeat(md5(g::text), 7) || E'\\nline two', "
        "CASE WHEN g %% 10 = 0 THEN 'archived' ELSE 'active' END, "
        "timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, %s) g",
        (tenant, name, rows),
    )


def download(url):
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - moto server URL
        return response.read()


@pytest.mark.slow
def test_a_50k_row_report_streams_with_bounded_memory_and_round_trips(
    app_database, s3_bucket, make_tenant, owner_sql
):
    tenant, other = make_tenant(), make_tenant()
    seed_projects(owner_sql, tenant, ROWS)
    seed_projects(owner_sql, other, 10, name="Other")

    ctx = context(tenant, app_database)
    get_s3_client()  # created at cold start in Lambda; its service model is not part of the report's cost
    tracemalloc.start()
    try:
        result = project_report(ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result["rows"] == ROWS
    assert result["bytes"] > 15 * 1024 * 1024
    # one 5 MiB part being built plus its copy for the upload, whatever the report size
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert peak < result["bytes"] * 0.9

    body = download(result["url"])
    assert len(body) == result["bytes"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    expected = owner_sql(
        tenant, "SELECT id, name, description, status, created_at FROM projects ORDER BY created_at, id"
    )
    assert len(rows) == ROWS
    assert [(r["id"], r["name"], r["description"], r["status"]) for r in rows] == [
        (str(e["id"]), e["name"], e["description"], e["status"]) for e in expected
    ]
    assert rows[0]["created_at"] == expected[0]["created_at"].isoformat()
    parts = boto3.client("s3").head_object(Bucket=s3_bucket, Key=result["key"], PartNumber=1)
    assert parts["PartsCount"] == 4
    assert result["key"] == f"reports/{tenant}/{ctx.job_id}.csv"


def test_small_report_filters_by_status_escapes_formulas_and_expires(
    app_database, s3_bucket, make_tenant, owner_sql
):
    tenant = make_tenant()
    owner_sql(
        tenant,
        "INSERT INTO projects (tenant_id, name, status) VALUES (%s, '=HYPERLINK(\"x\")', 'archived'), "
        "(%s, 'plain', 'active'), (%s, 'gone', 'archived')",
        (tenant, tenant, tenant),
    )
    owner_sql(tenant, "UPDATE projects SET deleted_at = now() WHERE name = 'gone'")

    result = project_report(context(tenant, app_database, {"status": "archived"}))

    rows = list(csv.DictReader(io.StringIO(download(result["url"]).decode())))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("x")']
    assert "X-Amz-Expires=3600" in result["url"]
    assert result["rows"] == 1


def test_an_unknown_payload_field_is_a_permanent_error(app_database, s3_bucket, make_tenant):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        project_report(context(make_tenant(), app_database, {"format": "xlsx"}))


@pytest.fixture
def replica_database(pg, pg_standby):
    """The app role's Database with the real standby as its read endpoint (reports read from it)."""
    from saascore.db.connection import Database
    from saascore.db.replica import replica_for
    from tests.conftest import database_settings_for
    from tests.support.replica import standby_app_url

    def make(max_lag_seconds: float) -> Database:
        return Database(
            database_settings_for(
                pg.app_url,
                DATABASE_READ_URL=standby_app_url(pg_standby, pg),
                max_replica_lag_seconds=max_lag_seconds,
            )
        )

    made: list[Database] = []

    def remembered(max_lag_seconds: float) -> Database:
        made.append(make(max_lag_seconds))
        return made[-1]

    yield remembered
    for database in made:
        database.discard()
        replica = replica_for(database.settings)
        if replica is not None:
            replica.database.discard()


def test_a_report_reads_the_replica_within_its_lag_and_the_primary_beyond(
    replica_database, pg_standby, s3_bucket, make_tenant, owner_sql
):
    import psycopg

    tenant = make_tenant()
    owner_sql(tenant, "INSERT INTO projects (tenant_id, name) VALUES (%s, 'replicated')", (tenant,))
    tolerant_db, strict_db = replica_database(3600), replica_database(0)  # each waits for the replay
    with psycopg.connect(pg_standby.urls.admin, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            owner_sql(
                tenant, "INSERT INTO projects (tenant_id, name) VALUES (%s, 'not-yet-replayed')", (tenant,)
            )
            pg_standby.wait_for_receive()
            tolerant = project_report(context(tenant, tolerant_db))
            strict = project_report(context(tenant, strict_db))
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")

    def names(result):
        return sorted(r["name"] for r in csv.DictReader(io.StringIO(download(result["url"]).decode())))

    assert names(tolerant) == ["replicated"]  # the replica, paused behind the second insert
    assert names(strict) == ["not-yet-replayed", "replicated"]  # too far behind: the primary
