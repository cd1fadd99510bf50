"""PostgreSQL for the test run: DATABASE_URL's server, else a throwaway cluster the run starts itself.

The schema is migrated once into a template database; every test that asks for `pg` gets its own
database cloned from that template (tens of milliseconds) and dropped afterwards, so tests never share
rows and can commit freely.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from local.postgres import APP_ROLE, OWNER_ROLE, LocalCluster, ensure_roles_and_database
from saascore.db.migrate import migrate

TEMPLATE_DB = "saas_test_template"
EXTERNAL_ROLE_PASSWORD = "saas-test-only"  # roles created on a DATABASE_URL server used for tests


def with_credentials(url: str, *, user: str, password: str, dbname: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, ""))


@dataclass(frozen=True)
class PgServer:
    admin_url: str
    owner_password: str
    app_password: str
    host: str
    port: int
    cluster: LocalCluster | None

    def url(self, *, role: str, dbname: str) -> str:
        password = self.owner_password if role == OWNER_ROLE else self.app_password
        return with_credentials(self.admin_url, user=role, password=password, dbname=dbname)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.admin_url, autocommit=True)


@dataclass(frozen=True)
class TestDatabase:
    name: str
    owner_url: str
    app_url: str
    server: PgServer


def start_server(tmp_root: Path) -> Iterator[PgServer]:
    external = os.environ.get("DATABASE_URL")
    if external:
        with psycopg.connect(external, autocommit=True) as conn:
            ensure_roles_and_database(
                conn,
                owner_password=EXTERNAL_ROLE_PASSWORD,
                app_password=EXTERNAL_ROLE_PASSWORD,
                database=TEMPLATE_DB,
            )
        parts = urlsplit(external)
        yield PgServer(
            external,
            EXTERNAL_ROLE_PASSWORD,
            EXTERNAL_ROLE_PASSWORD,
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            None,
        )
        return
    cluster = LocalCluster(tmp_root / "pg", durable=False)
    try:
        cluster.start()
        passwords = cluster._passwords()
        yield PgServer(
            cluster.urls.admin, passwords[OWNER_ROLE], passwords[APP_ROLE], "127.0.0.1", cluster.port, cluster
        )
    finally:
        cluster.stop(mode="immediate")


def build_template(server: PgServer) -> None:
    with server.admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(TEMPLATE_DB), sql.Identifier(OWNER_ROLE)
            )
        )
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(TEMPLATE_DB)))
    migrate(server.url(role=OWNER_ROLE, dbname=TEMPLATE_DB))


def clone_database(server: PgServer) -> TestDatabase:
    name = f"saas_test_{uuid.uuid4().hex[:12]}"
    with server.admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB), sql.Identifier(OWNER_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(APP_ROLE)
            )
        )
    return TestDatabase(
        name=name,
        owner_url=server.url(role=OWNER_ROLE, dbname=name),
        app_url=server.url(role=APP_ROLE, dbname=name),
        server=server,
    )


def drop_database(database: TestDatabase) -> None:
    with database.server.admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name)))
