"""Replica reads against a real streaming replica: served by it when close enough, by the primary when it
lags (replay paused), is unreachable or is not configured; RLS and the tenant context on the standby."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from local.replica import LocalStandby
from saascore.db.connection import Database
from saascore.db.replica import REPLICA_RETRY_SECONDS, replica_for, replica_reads
from saascore.db.tenancy import tenant_transaction
from tests.conftest import database_settings_for
from tests.support.postgres import TestDatabase
from tests.support.replica import standby_app_url

TENANT_A = uuid.UUID("aaaaaaaa-7777-4000-8000-000000000001")
TENANT_B = uuid.UUID("bbbbbbbb-8888-4000-8000-000000000002")


def _seed(db: Database, tenant: uuid.UUID, name: str) -> None:
    with tenant_transaction(tenant, database=db) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (tenant, f"T {tenant.hex[:4]}", f"t-{tenant.hex[:8]}"),
        )
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), %s)", (name,))


def _read(db: Database, tenant: uuid.UUID, **kwargs: float) -> tuple[set[str], str, str]:
    with replica_reads(tenant, database=db, **kwargs) as (conn, source):
        names = {row["name"] for row in conn.execute("SELECT name FROM projects").fetchall()}
        in_recovery = conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()
    assert in_recovery is not None
    assert in_recovery["r"] == (source.endpoint == "replica")  # it really ran where it says
    return names, source.endpoint, source.reason


@pytest.fixture
def primary(pg: TestDatabase, pg_standby: LocalStandby) -> Iterator[Database]:
    """The app role's Database with the standby as its read endpoint."""
    db = Database(database_settings_for(pg.app_url, DATABASE_READ_URL=standby_app_url(pg_standby, pg)))
    yield db
    db.discard()
    replica = replica_for(db.settings)
    if replica is not None:
        replica.database.discard()


def test_in_sync_reads_come_from_the_replica_and_rls_holds_there(primary, pg_standby):
    _seed(primary, TENANT_A, "a")
    _seed(primary, TENANT_B, "b")
    pg_standby.wait_for_replay()
    assert _read(primary, TENANT_A) == ({"a"}, "replica", "replica")
    assert _read(primary, TENANT_B) == ({"b"}, "replica", "replica")


def test_a_lagging_replica_is_skipped_for_the_primary_within_the_lag_it_is_used(primary, pg_standby):
    _seed(primary, TENANT_A, "before")
    pg_standby.wait_for_replay()
    with psycopg.connect(pg_standby.urls.admin, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            _seed(primary, TENANT_A, "during-pause")
            pg_standby.wait_for_receive()  # lag is measured from what the replica has received
            assert _read(primary, TENANT_A, max_lag_seconds=0) == (
                {"before", "during-pause"},
                "primary",
                "lagging",
            )
            assert _read(primary, TENANT_A, max_lag_seconds=3600) == ({"before"}, "replica", "replica")
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
    pg_standby.wait_for_replay()
    assert _read(primary, TENANT_A, max_lag_seconds=0) == ({"before", "during-pause"}, "replica", "replica")


def test_an_unreachable_replica_falls_back_and_is_skipped_for_a_while(pg):
    settings = database_settings_for(
        pg.app_url, DATABASE_READ_URL="postgresql://saas_app:x@127.0.0.1:1/saas", connect_timeout_seconds=1
    )
    db = Database(settings)
    _seed(db, TENANT_A, "a")
    assert _read(db, TENANT_A) == ({"a"}, "primary", "unreachable")
    replica = replica_for(settings)
    assert replica is not None
    assert replica.skip_until > 0
    assert replica.database.connects == 0
    assert _read(db, TENANT_A) == ({"a"}, "primary", "unreachable")  # skipped: no second connect attempt
    assert REPLICA_RETRY_SECONDS >= 10
    db.discard()


def test_without_a_read_endpoint_replica_reads_are_primary_flights(pg):
    db = Database(database_settings_for(pg.app_url))
    _seed(db, TENANT_A, "a")
    assert _read(db, TENANT_A) == ({"a"}, "primary", "no-replica")
    assert db.connects == 1
    db.discard()
