"""One PostgreSQL connection per Lambda container, shaped for RDS Proxy.

The connection is opened lazily, kept across invocations and never pooled client-side (the proxy
pools). It runs in autocommit mode so no transaction is ever left open between invocations, with
server-side prepared statements off (psycopg's DEALLOCATE ALL would pin the proxy connection). Every
unit of work is an explicit transaction whose first statement is ``app.set_tenant`` (see tenancy.py);
if that first statement finds the connection broken (server restart, proxy idle timeout), the
connection is re-opened once and the transaction retried, which is safe because nothing ran yet.

The API's request path uses pipeline mode (psycopg 3) to pay fewer round trips, each of which costs the
proxy's latency: ``pipelined_transaction`` sends BEGIN, the setup statement and the caller's first
statements in one flight, then lets later statements queue until a result is needed, and sends COMMIT
with the last ones; ``read_flights`` runs each statement as its own implicit transaction (setup +
statement + Sync, one round trip). Both use the extended protocol with unnamed statements only, which
RDS Proxy multiplexes and PgBouncer's transaction pooling passes through (no SET, no PREPARE).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

import psycopg
from psycopg import errors, pq
from psycopg.abc import Params, Query, QueryNoTemplate
from psycopg.rows import DictRow, dict_row

from saascore.exceptions import (
    DatabaseUnavailableError,
    StatementTimeoutError,
    TenantMovingError,
    TenantNotInCellError,
)
from saascore.observability import get_logger
from saascore.settings import DatabaseSettings, get_database_settings

Connection = psycopg.Connection[DictRow]
Cursor = psycopg.Cursor[DictRow]
PasswordProvider = Callable[[], str | None]
T = TypeVar("T")

# RDS IAM auth tokens are valid for 15 minutes and only checked at connect; renew well before that.
IAM_TOKEN_REUSE_SECONDS = 600

logger = get_logger("db")

# What a dead connection raises on its first statement. PgBouncer relays the FATAL of a server connection
# that was killed ahead of the answer to the next command, which psycopg reports as an InternalError
# ("received 2 results"); nothing has run yet either way, so reconnecting once is equally safe.
BROKEN_CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InternalError)
# Of those, the answers a live server gives a live connection (a statement or lock timeout, a lock not
# available): the statement ran and failed, so they are mapped, never taken for a dead connection.
LIVE_CONNECTION_SQLSTATES = frozenset({"57014", "55P03"})

# Raised by app.refuse_write_while_moving() (migrations 1000, 1020) on a write to a tenant that is moving
# cells, and on one to a tenant whose row is not in this cell (it left while the write was routed here).
TENANT_MOVING_SQLSTATE = "TM001"
TENANT_NOT_IN_CELL_SQLSTATE = "TM002"


def _connection_died(exc: psycopg.Error) -> bool:
    return isinstance(exc, BROKEN_CONNECTION_ERRORS) and exc.sqlstate not in LIVE_CONNECTION_SQLSTATES


def _write_guard_refusal(exc: psycopg.Error) -> TenantMovingError | None:
    if exc.sqlstate == TENANT_MOVING_SQLSTATE:
        return TenantMovingError("the tenant is moving to another cell and is read-only for a moment")
    if exc.sqlstate == TENANT_NOT_IN_CELL_SQLSTATE:
        return TenantNotInCellError("the tenant is not in this cell any more; route to its cell again")
    return None


class IamAuthToken:
    """Caches `generate_db_auth_token` results; boto3 is imported only when IAM auth is used."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self._settings = settings
        self._token: str | None = None
        self._issued_at = 0.0

    def __call__(self) -> str:
        now = time.monotonic()
        if self._token is None or now - self._issued_at > IAM_TOKEN_REUSE_SECONDS:
            import boto3

            client = boto3.client("rds", region_name=self._settings.region)
            self._token = client.generate_db_auth_token(
                DBHostname=self._settings.host,
                Port=self._settings.port,
                DBUsername=self._settings.user,
                Region=self._settings.region,
            )
            self._issued_at = now
        return self._token


class FlightConnection(psycopg.Connection[DictRow]):
    """A connection that, inside ``Database.read_flights``, runs every ``execute`` as one flight: the
    setup statement and the statement in one implicit transaction, ended by one Sync (one round trip).

    Outside a flight scope, or inside an explicit pipeline, ``execute`` is psycopg's own.
    """

    flight_setup: tuple[str, tuple[Any, ...]] | None = None

    def execute(
        self, query: Query, params: Params | None = None, *, prepare: bool | None = None, binary: bool = False
    ) -> Cursor:
        statement = cast(QueryNoTemplate, query)  # no t-string templates in this code base
        setup = self.flight_setup
        if setup is None or self._pipeline is not None:
            return super().execute(statement, params, prepare=prepare, binary=binary)
        with self.pipeline():
            super().execute(*setup)
            cursor = super().execute(statement, params, prepare=prepare, binary=binary)
        return cursor


class Deferred(Generic[T]):
    """A pipelined statement's result, read from its cursor only when asked for (no round trip of its own
    once the flight it travelled in has been answered)."""

    def __init__(self, cursor: Cursor, read: Callable[[Cursor], T]) -> None:
        self._cursor = cursor
        self._read = read

    def result(self) -> T:
        return self._read(self._cursor)


class Database:
    def __init__(self, settings: DatabaseSettings, *, password: PasswordProvider | None = None) -> None:
        self.settings = settings
        if password is not None:
            self._password = password
        elif settings.auth == "iam":
            self._password = IamAuthToken(settings)
        else:
            self._password = settings.resolved_password
        self._conn: Connection | None = None
        self.connects = 0

    def _connect(self) -> Connection:
        settings = self.settings
        options: dict[str, Any] = {
            "autocommit": True,
            "prepare_threshold": None,
            "row_factory": dict_row,
            "connect_timeout": settings.connect_timeout_seconds,
            "application_name": "saas",
        }
        try:
            if settings.url is not None:
                conn = FlightConnection.connect(settings.url.get_secret_value(), **options)
            else:
                conn = FlightConnection.connect(
                    host=settings.host,
                    port=settings.port,
                    dbname=settings.name,
                    user=settings.user,
                    password=self._password(),
                    sslmode=settings.sslmode,
                    **options,
                )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError("could not connect to the database") from exc
        self.connects += 1
        return conn

    def connection(self) -> Connection:
        """The container's connection, (re)opened when absent or known to be broken (no round trip)."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self.discard()
            conn = self._conn = self._connect()
        return conn

    def holds(self, conn: Connection) -> bool:
        """Whether ``conn`` is this Database's connection (no round trip, nothing opened)."""
        return self._conn is conn

    def discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def transaction(self, setup_sql: str, setup_params: tuple[Any, ...]) -> Iterator[Connection]:
        """A transaction whose first statement is ``setup_sql``; retried once on a dead connection."""
        for attempt in (1, 2):
            conn = self.connection()
            stack = ExitStack()
            try:
                stack.enter_context(conn.transaction())
                conn.execute(setup_sql, setup_params)
            except BROKEN_CONNECTION_ERRORS as exc:
                with suppress(psycopg.Error):
                    stack.close()
                if not _connection_died(exc):
                    with self._mapped_errors():
                        raise
                self.discard()
                if attempt == 2:
                    raise DatabaseUnavailableError("the database connection failed twice") from exc
                logger.warning("database connection was broken; reconnecting once")
                continue
            with self._mapped_errors(), stack:
                yield conn
            return

    @contextmanager
    def _mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except errors.QueryCanceled as exc:
            raise StatementTimeoutError(
                f"statement exceeded the {self.settings.statement_timeout_ms} ms statement timeout"
            ) from exc
        except psycopg.OperationalError as exc:
            if not _connection_died(exc):  # a lock not available: the connection itself is fine
                raise DatabaseUnavailableError("the database is busy") from exc
            self.discard()
            raise DatabaseUnavailableError("the database connection failed mid-transaction") from exc
        except psycopg.Error as exc:
            refusal = _write_guard_refusal(exc)
            if refusal is not None:
                raise refusal from exc
            raise

    def _first_flight(
        self, begin: Callable[[Connection], T], *, stay_pipelined: bool
    ) -> tuple[Connection, ExitStack, T]:
        """Enter pipeline mode, run ``begin`` (which only queues statements) and wait for its answers: one
        round trip (a Sync, and leaving pipeline mode unless ``stay_pipelined``). A broken connection is
        re-opened and the flight re-sent once, which is safe because nothing it sent committed."""
        for attempt in (1, 2):
            conn = self.connection()
            stack = ExitStack()
            try:
                pipeline = stack.enter_context(conn.pipeline())
                queued = begin(conn)
                if stay_pipelined:
                    pipeline.sync()
                else:
                    stack.close()
            except BROKEN_CONNECTION_ERRORS as exc:
                if not _connection_died(exc):
                    self._abandon(conn, stack)
                    with self._mapped_errors():
                        raise
                with suppress(psycopg.Error):
                    stack.close()
                self.discard()
                if attempt == 2:
                    raise DatabaseUnavailableError("the database connection failed twice") from exc
                logger.warning("database connection was broken; reconnecting once")
                continue
            except BaseException as exc:
                self._abandon(conn, stack)
                # A write queued in the first flight (the pipelined request path) meets the guard here.
                refusal = _write_guard_refusal(exc) if isinstance(exc, psycopg.Error) else None
                if refusal is not None:
                    raise refusal from exc
                raise
            return conn, stack, queued
        raise AssertionError("unreachable")

    def _abandon(self, conn: Connection, stack: ExitStack) -> None:
        """Roll back whatever is open and leave pipeline mode, after an error; never raises. A ROLLBACK
        queued in a still-open pipeline travels with its Sync (a pipeline aborted by an error skips it,
        so the transaction is then rolled back after the Sync)."""
        with suppress(psycopg.Error):
            if conn.pgconn.pipeline_status != pq.PipelineStatus.OFF:
                conn.execute("ROLLBACK")
        with suppress(psycopg.Error):
            stack.close()
        try:
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            self.discard()

    @contextmanager
    def pipelined_transaction(
        self, setup_sql: str, setup_params: tuple[Any, ...], begin: Callable[[Connection], T]
    ) -> Iterator[tuple[Connection, T]]:
        """One transaction in pipeline mode: BEGIN, ``setup_sql`` and what ``begin`` queues travel in the
        first round trip (retried once on a dead connection, like ``transaction``); later statements queue
        until the block reads a result; COMMIT goes with the block's last statements, so a block whose
        reads are all in ``begin`` and one more flight costs exactly three round trips.

        A statement whose result the block never reads fails at the latest at COMMIT, inside this
        context, so errors still map (statement timeout, broken connection) and everything rolls back.
        """

        def first(conn: Connection) -> T:
            conn.execute("BEGIN")
            conn.execute(setup_sql, setup_params)
            return begin(conn)

        conn, stack, queued = self._first_flight(first, stay_pipelined=True)
        try:
            with self._mapped_errors():
                yield conn, queued
                conn.execute("COMMIT")
                stack.close()  # the Sync: the last flight's round trip
        except BaseException:
            self._abandon(conn, stack)
            raise

    @contextmanager
    def read_flights(
        self, setup_sql: str, setup_params: tuple[Any, ...], begin: Callable[[Connection], T]
    ) -> Iterator[tuple[Connection, T]]:
        """Read-only work as a series of flights, each one round trip and one implicit transaction that
        starts with ``setup_sql``: the first carries what ``begin`` queues, then every ``execute`` in the
        block is a flight of its own. Under READ COMMITTED each statement sees its own snapshot anyway,
        so splitting the reads loses no consistency; there is no BEGIN or COMMIT to wait for."""

        def first(conn: Connection) -> T:
            conn.execute(setup_sql, setup_params)
            return begin(conn)

        conn, stack, queued = self._first_flight(first, stay_pipelined=False)
        if not isinstance(conn, FlightConnection):
            raise TypeError("read_flights needs the connections Database opens (FlightConnection)")
        outer = conn.flight_setup  # read flights nest (a fallback read on the request's own connection)
        conn.flight_setup = (setup_sql, setup_params)
        try:
            with self._mapped_errors():
                yield conn, queued
        except BaseException:
            conn.flight_setup = None
            self._abandon(conn, stack)
            raise
        finally:
            conn.flight_setup = outer


@lru_cache(maxsize=1)
def get_database() -> Database:
    """The container-wide Database; tests call ``get_database.cache_clear()`` to swap settings."""
    return Database(get_database_settings())
