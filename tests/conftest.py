"""Fixtures every tier shares: PostgreSQL (real), the app-role Database, Lambda context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.replica import LocalStandby
from saascore.db.connection import Database, get_database
from saascore.settings import DatabaseSettings, get_database_settings
from tests.support.cells import TestCells, configure_cells, dedicated_database
from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.postgres import (
    PgServer,
    TestDatabase,
    build_template,
    clone_database,
    drop_database,
    start_server,
)
from tests.support.replica import start_standby

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    yield from start_server(tmp_path_factory.mktemp("postgres"))


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> PgServer:
    build_template(pg_server)
    return pg_server


@pytest.fixture
def pg(pg_template: PgServer) -> Iterator[TestDatabase]:
    """A migrated database of this test's own, dropped afterwards."""
    database = clone_database(pg_template)
    try:
        yield database
    finally:
        drop_database(database)


@pytest.fixture
def dedicated_pg(pg_template: PgServer) -> Iterator[TestDatabase]:
    """A second migrated database of this test's own: a dedicated cell beside the pooled ``pg``."""
    yield from dedicated_database(pg_template)


@pytest.fixture
def cells(
    pg: TestDatabase, dedicated_pg: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestCells]:
    """``CELLS`` names the dedicated cell; ``cells.place(slug)`` routes that slug's sign-up to it."""
    yield from configure_cells(pg, dedicated_pg, monkeypatch)


@pytest.fixture
def app_database(pg: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The application's Database (app role, RLS applies) pointed at this test's database; also what
    `get_database()` returns inside the test."""
    monkeypatch.setenv("DATABASE_URL", pg.app_url)
    get_database_settings.cache_clear()
    get_database.cache_clear()
    database = get_database()
    try:
        yield database
    finally:
        database.discard()
        get_database_settings.cache_clear()
        get_database.cache_clear()


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/23/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def database_settings_for(url: str, **overrides: object) -> DatabaseSettings:
    return DatabaseSettings.model_validate({"DATABASE_URL": url, **overrides})


@pytest.fixture(scope="session")
def pgbouncer(pg_template: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgBouncer]:
    """PgBouncer (transaction pooling) in front of the test cluster; skips with a reason off CI."""
    yield from start_pgbouncer(pg_template, tmp_path_factory.mktemp("pgbouncer"))


@pytest.fixture(params=["direct", pytest.param("pgbouncer", marks=pytest.mark.pgbouncer)])
def app_url(request: pytest.FixtureRequest, pg: TestDatabase) -> str:
    """The app role's URL for this test's database: straight to PostgreSQL, then through PgBouncer."""
    if request.param == "direct":
        return pg.app_url
    bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
    return bouncer.app_url(pg.name)


@pytest.fixture(scope="session")
def pg_standby(pg_template: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStandby]:
    """A hot standby streaming from the test cluster (pg_basebackup -R), started once per run."""
    yield from start_standby(pg_template, tmp_path_factory.mktemp("standby"))
