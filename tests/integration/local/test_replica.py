"""The local streaming replica: a real hot standby of the test cluster, RLS and the tenant context on it,
and replication lag that can be made and observed."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from saascore.db.connection import Database
from saascore.db.tenancy import tenant_reads, tenant_transaction
from tests.conftest import database_settings_for
from tests.support.replica import standby_app_url

TENANT_A = uuid.UUID("aaaaaaaa-5555-4000-8000-000000000001")
TENANT_B = uuid.UUID("bbbbbbbb-6666-4000-8000-000000000002")


def _seed(db: Database, tenant: uuid.UUID, name: str) -> None:
    with tenant_transaction(tenant, database=db) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (tenant, f"T {tenant.hex[:4]}", f"t-{tenant.hex[:8]}"),
        )
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), %s)", (name,))


def _names(db: Database, tenant: uuid.UUID) -> set[str]:
    with tenant_reads(tenant, lambda conn: conn.execute("SELECT name FROM projects"), database=db) as (
        _,
        rows,
    ):
        return {row["name"] for row in rows.fetchall()}


def test_the_standby_is_in_recovery_and_streams_from_the_primary(pg_standby, pg):
    with psycopg.connect(pg_standby.urls.admin) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        assert conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone() == ("streaming",)
    with pg.server.admin() as primary:
        slots = primary.execute("SELECT slot_name, active FROM pg_replication_slots").fetchall()
    assert (pg_standby.slot, True) in slots


def test_rls_and_the_tenant_context_work_on_the_standby_and_writes_are_refused(pg_standby, pg):
    primary = Database(database_settings_for(pg.app_url))
    _seed(primary, TENANT_A, "a")
    _seed(primary, TENANT_B, "b")
    replica = Database(database_settings_for(standby_app_url(pg_standby, pg)))
    assert _names(replica, TENANT_A) == {"a"}
    assert _names(replica, TENANT_B) == {"b"}
    with replica.connection().transaction():  # no tenant: forced RLS shows nothing
        assert replica.connection().execute("SELECT count(*) AS n FROM projects").fetchone() == {"n": 0}
    with (
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
        tenant_transaction(TENANT_A, database=replica) as c,
    ):
        c.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'nope')")
    primary.discard()
    replica.discard()


def test_paused_replay_shows_as_lag_and_catches_up_on_resume(pg_standby, pg):
    primary = Database(database_settings_for(pg.app_url))
    replica = Database(database_settings_for(standby_app_url(pg_standby, pg)))
    with psycopg.connect(pg_standby.urls.admin, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            _seed(primary, TENANT_A, "during-pause")
            time.sleep(0.3)
            lag = pg_standby.lag()
            assert lag.replay_paused
            assert lag.behind_bytes is not None
            assert lag.behind_bytes > 0
            assert lag.last_replay_age_seconds is not None
            assert lag.last_replay_age_seconds >= 0.3
            assert _names(replica, TENANT_A) == set()  # the standby has not replayed the write
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
    pg_standby.wait_for_replay()
    assert _names(replica, TENANT_A) == {"during-pause"}
    deadline = time.monotonic() + 5  # new WAL (the server's own records) may arrive meanwhile
    while (caught_up := pg_standby.lag()).replay_lsn != caught_up.receive_lsn and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not caught_up.replay_paused
    assert caught_up.replay_lsn == caught_up.receive_lsn  # everything received is replayed
    primary.discard()
    replica.discard()
