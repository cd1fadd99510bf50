"""The Lambda-side DB module against real PostgreSQL, directly and through PgBouncer (RDS Proxy stand-in)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from saascore.db.connection import Database
from saascore.db.tenancy import tenant_pipeline, tenant_reads, tenant_transaction, tenantless_transaction
from saascore.exceptions import DatabaseUnavailableError, StatementTimeoutError
from tests.conftest import database_settings_for
from tests.support.wire import WireCounter, counted

TENANT_A = uuid.UUID("aaaaaaaa-1111-4000-8000-000000000001")
TENANT_B = uuid.UUID("bbbbbbbb-2222-4000-8000-000000000002")


def seed_tenant(db: Database, tenant_id: uuid.UUID, project_names: list[str]) -> None:
    with tenant_transaction(tenant_id, database=db) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)",
            (tenant_id, f"Tenant {tenant_id.hex[:4]}", f"t-{tenant_id.hex[:8]}"),
        )
        for name in project_names:
            conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), %s)", (name,))


def project_names(db: Database, tenant_id: uuid.UUID) -> set[str]:
    with tenant_transaction(tenant_id, database=db) as conn:
        return {row["name"] for row in conn.execute("SELECT name FROM projects").fetchall()}


@pytest.fixture
def db(app_url: str) -> Iterator[Database]:
    database = Database(database_settings_for(app_url, statement_timeout_ms=2000))
    yield database
    database.discard()


def test_consecutive_transactions_on_one_connection_see_only_their_tenant(db):
    seed_tenant(db, TENANT_A, ["a1", "a2"])
    seed_tenant(db, TENANT_B, ["b1"])
    for _ in range(3):
        assert project_names(db, TENANT_A) == {"a1", "a2"}
        assert project_names(db, TENANT_B) == {"b1"}
    assert db.connects == 1


def test_tenant_setting_is_gone_after_the_transaction(db):
    seed_tenant(db, TENANT_A, ["a1"])
    with tenant_transaction(TENANT_A, database=db) as conn:
        assert conn.execute("SELECT app.current_tenant() AS t").fetchone() == {"t": TENANT_A}
    conn = db.connection()
    setting = conn.execute("SELECT current_setting('app.tenant_id', true) AS s").fetchone()
    assert setting is not None
    assert setting["s"] in ("", None)
    assert conn.execute("SELECT count(*) AS n FROM projects").fetchone() == {"n": 0}


def test_a_failed_transaction_leaves_nothing_behind(db):
    seed_tenant(db, TENANT_A, [])
    with pytest.raises(psycopg.errors.UniqueViolation), tenant_transaction(TENANT_A, database=db) as conn:
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'kept?')")
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'dup', 'dup-slug')", (TENANT_A,))
    assert project_names(db, TENANT_A) == set()


def test_no_tenant_sees_nothing(db):
    seed_tenant(db, TENANT_A, ["a1"])
    with tenantless_transaction(database=db) as conn:
        assert conn.execute("SELECT count(*) AS n FROM projects").fetchone() == {"n": 0}
        assert conn.execute("SELECT count(*) AS n FROM tenants").fetchone() == {"n": 0}


def test_concurrent_containers_never_see_each_others_tenant(app_url):
    """Two 'containers' (own connections) interleave transactions; each only ever sees its tenant."""
    setup = Database(database_settings_for(app_url))
    seed_tenant(setup, TENANT_A, ["a"])
    seed_tenant(setup, TENANT_B, ["b"])
    setup.discard()
    seen: dict[uuid.UUID, set[str]] = {TENANT_A: set(), TENANT_B: set()}

    def container(tenant: uuid.UUID) -> None:
        database = Database(database_settings_for(app_url))
        for _ in range(40):
            seen[tenant] |= project_names(database, tenant)
        database.discard()

    threads = [threading.Thread(target=container, args=(t,)) for t in (TENANT_A, TENANT_B)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {TENANT_A: {"a"}, TENANT_B: {"b"}}


def test_statement_timeout_gives_a_clear_error_and_the_connection_survives(app_url):
    db = Database(database_settings_for(app_url, statement_timeout_ms=100))
    with (
        pytest.raises(StatementTimeoutError, match="100 ms"),
        tenant_transaction(TENANT_A, database=db) as conn,
    ):
        conn.execute("SELECT pg_sleep(2)")
    with tenant_transaction(TENANT_A, database=db) as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    db.discard()


def test_a_dropped_connection_is_reopened_once_before_the_transaction(pg, db):
    seed_tenant(db, TENANT_A, ["a1"])
    backend_pid = db.connection().execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with pg.server.admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    assert project_names(db, TENANT_A) == {"a1"}


def test_survives_a_server_restart_between_invocations(pg, pg_server):
    if pg_server.cluster is None:
        pytest.skip("DATABASE_URL names a server this run does not own, so it cannot restart it")
    db = Database(database_settings_for(pg.app_url))
    seed_tenant(db, TENANT_A, ["before"])
    pg_server.cluster.stop()
    pg_server.cluster.start()
    assert project_names(db, TENANT_A) == {"before"}
    assert db.connects == 2
    db.discard()


def test_unreachable_database_is_a_clear_error():
    db = Database(
        database_settings_for("postgresql://saas_app:x@127.0.0.1:1/saas", connect_timeout_seconds=1)
    )
    with pytest.raises(DatabaseUnavailableError), tenant_transaction(TENANT_A, database=db):
        pass


@pytest.fixture
def wire(app_url: str) -> Iterator[tuple[WireCounter, Database]]:
    """A Database whose connection goes through a round-trip counter (directly, then via PgBouncer)."""
    with counted(app_url) as (counter, url):
        database = Database(database_settings_for(url, statement_timeout_ms=2000))
        yield counter, database
        database.discard()


def test_a_pipelined_transaction_costs_one_round_trip_per_read_plus_commit(wire):
    counter, db = wire
    seed_tenant(db, TENANT_A, ["a1"])
    seed_tenant(db, TENANT_B, ["b1"])
    with counter.counting():
        with tenant_pipeline(
            TENANT_A, lambda conn: conn.execute("SELECT count(*) AS n FROM projects"), database=db
        ) as (conn, counted_rows):
            assert counted_rows.fetchone() == {"n": 1}  # answered by the first round trip
            conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'a2')")
            names = conn.execute("SELECT name FROM projects ORDER BY name").fetchall()
            conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'a3')")
        assert counter.round_trips == 3  # BEGIN+tenant+count | insert+select | insert+COMMIT
    assert [row["name"] for row in names] == ["a1", "a2"]
    assert project_names(db, TENANT_A) == {"a1", "a2", "a3"}
    assert project_names(db, TENANT_B) == {"b1"}


def test_read_flights_cost_one_round_trip_per_statement_and_keep_the_tenant(wire):
    counter, db = wire
    seed_tenant(db, TENANT_A, ["a1", "a2"])
    seed_tenant(db, TENANT_B, ["b1"])
    with counter.counting():
        with tenant_reads(
            TENANT_B, lambda conn: conn.execute("SELECT app.current_tenant() AS t"), database=db
        ) as (conn, first):
            assert first.fetchone() == {"t": TENANT_B}
            assert conn.execute("SELECT name FROM projects").fetchall() == [{"name": "b1"}]
            assert conn.execute("SELECT app.current_tenant() AS t").fetchone() == {"t": TENANT_B}
        assert counter.round_trips == 3
    setting = db.connection().execute("SELECT current_setting('app.tenant_id', true) AS s").fetchone()
    assert setting is not None
    assert setting["s"] in ("", None)


def test_read_flights_refuse_writes(db):
    seed_tenant(db, TENANT_A, ["a1"])
    with (
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
        tenant_reads(TENANT_A, lambda conn: None, database=db) as (conn, _),
    ):
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'sneaky')")
    assert project_names(db, TENANT_A) == {"a1"}


def test_an_error_in_a_statement_nobody_read_rolls_the_pipeline_back(db):
    seed_tenant(db, TENANT_A, ["a1"])
    with (
        pytest.raises(psycopg.errors.NotNullViolation),
        tenant_pipeline(TENANT_A, lambda conn: None, database=db) as (conn, _),
    ):
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'kept?')")
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), NULL)")
    assert project_names(db, TENANT_A) == {"a1"}
    assert db.connects == 1  # the connection is clean and reused


def test_a_domain_error_in_a_pipeline_rolls_back_what_was_queued(db):
    seed_tenant(db, TENANT_A, ["a1"])
    with pytest.raises(LookupError), tenant_pipeline(TENANT_A, lambda conn: None, database=db) as (conn, _):
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (app.current_tenant(), 'queued')")
        raise LookupError("the service changed its mind")
    assert project_names(db, TENANT_A) == {"a1"}


@pytest.mark.parametrize("work", [tenant_pipeline, tenant_reads])
def test_statement_timeout_maps_in_pipeline_mode_and_the_connection_survives(app_url, work):
    db = Database(database_settings_for(app_url, statement_timeout_ms=100))
    with (
        pytest.raises(StatementTimeoutError, match="100 ms"),
        work(TENANT_A, lambda c: None, database=db) as (
            conn,
            _,
        ),
    ):
        conn.execute("SELECT pg_sleep(2)")
    with work(TENANT_A, lambda conn: conn.execute("SELECT 1 AS one"), database=db) as (_, one):
        assert one.fetchone() == {"one": 1}
    db.discard()


@pytest.mark.parametrize("work", [tenant_pipeline, tenant_reads])
def test_a_statement_timeout_in_the_first_flight_is_a_timeout_not_a_broken_connection(app_url, work):
    """A cancelled statement is an answer from a healthy connection: no reconnect, no second try."""
    db = Database(database_settings_for(app_url, statement_timeout_ms=100))
    started = time.monotonic()
    with (
        pytest.raises(StatementTimeoutError, match="100 ms"),
        work(TENANT_A, lambda conn: conn.execute("SELECT pg_sleep(2)"), database=db),
    ):
        pass
    assert time.monotonic() - started < 1.5
    assert db.connects == 1
    with work(TENANT_A, lambda conn: conn.execute("SELECT 1 AS one"), database=db) as (_, one):
        assert one.fetchone() == {"one": 1}
    db.discard()


@pytest.mark.parametrize("work", [tenant_pipeline, tenant_reads])
def test_a_dropped_connection_is_reopened_once_before_the_first_flight(pg, app_url, db, work):
    seed_tenant(db, TENANT_A, ["a1"])
    backend_pid = db.connection().execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with pg.server.admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    with work(TENANT_A, lambda conn: conn.execute("SELECT name FROM projects"), database=db) as (_, rows):
        assert rows.fetchall() == [{"name": "a1"}]
    if app_url == pg.app_url:  # PgBouncer replaces the killed server connection behind the client's back
        assert db.connects == 2
