"""One PostgreSQL connection per Lambda container, shaped for RDS Proxy.

The connection is opened lazily, kept across invocations and never pooled client-side (the proxy
pools). It runs in autocommit mode so no transaction is ever left open between invocations, with
server-side prepared statements off (psycopg's DEALLOCATE ALL would pin the proxy connection). Every
unit of work is an explicit transaction whose first statement is ``app.set_tenant`` (see tenancy.py);
if that first statement finds the connection broken (server restart, proxy idle timeout), the
connection is re-opened once and the transaction retried, which is safe because nothing ran yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import DictRow, dict_row

from saascore.exceptions import DatabaseUnavailableError, StatementTimeoutError
from saascore.observability import get_logger
from saascore.settings import DatabaseSettings, get_database_settings

Connection = psycopg.Connection[DictRow]
PasswordProvider = Callable[[], str | None]

# RDS IAM auth tokens are valid for 15 minutes and only checked at connect; renew well before that.
IAM_TOKEN_REUSE_SECONDS = 600

logger = get_logger("db")


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
                conn = psycopg.connect(settings.url.get_secret_value(), **options)
            else:
                conn = psycopg.connect(
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
            except psycopg.OperationalError as exc:
                with suppress(psycopg.Error):
                    stack.close()
                self.discard()
                if attempt == 2:
                    raise DatabaseUnavailableError("the database connection failed twice") from exc
                logger.warning("database connection was broken; reconnecting once")
                continue
            try:
                with stack:
                    yield conn
            except errors.QueryCanceled as exc:
                raise StatementTimeoutError(
                    f"statement exceeded the {self.settings.statement_timeout_ms} ms statement timeout"
                ) from exc
            except psycopg.OperationalError as exc:
                self.discard()
                raise DatabaseUnavailableError("the database connection failed mid-transaction") from exc
            return


@lru_cache(maxsize=1)
def get_database() -> Database:
    """The container-wide Database; tests call ``get_database.cache_clear()`` to swap settings."""
    return Database(get_database_settings())
